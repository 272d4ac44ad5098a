"""The job page's sentences, made once on the server so the page and its polling script say the
same thing: counts with the right plural, photos and videos named apart, and what the model
that ran the job cannot see."""

from __future__ import annotations

from typing import Any

from shared.model_facts import ModelFacts

NOUNS = {"photo": "photos", "video": "videos", "file": "files", "job": "jobs", "image": "images"}


def plural(n: int, noun: str) -> str:
    """ "1 photo", "2 photos", "1,204 files"."""
    return f"{n:,} {noun if n == 1 else NOUNS.get(noun, noun + 's')}"


def media_phrase(total: int, videos: int) -> str:
    """ "42 photos", "1 video", "42 photos and 5 videos"."""
    photos = total - videos
    if not videos:
        return plural(photos, "photo")
    if not photos:
        return plural(videos, "video")
    return f"{plural(photos, 'photo')} and {plural(videos, 'video')}"


def progress_text(processed: int, total: int, videos: int) -> str:
    """ "3 of 47 photos", or with videos "3 of 47 files (42 photos, 5 videos)"."""
    if not videos:
        return f"{processed:,} of {plural(total, 'photo')}"
    return (
        f"{processed:,} of {plural(total, 'file')} "
        f"({plural(total - videos, 'photo')}, {plural(videos, 'video')})"
    )


def summary_text(summary: dict[str, Any], facts: ModelFacts | None) -> str:
    """The finished job's one line; a class the model cannot detect is said so, not shown as
    a count of 0."""
    found = [f"{summary.get('animal', 0):,} with animals"]
    missing = facts.missing if facts else ()
    if "person" not in missing:
        found.append(f"{summary.get('person', 0):,} with people")
    if "vehicle" not in missing:
        found.append(f"{summary.get('vehicle', 0):,} with vehicles")
    found += [
        f"{summary.get('empty', 0):,} empty",
        f"{summary.get('errors', 0):,} could not be read",
    ]
    text = (
        f"{media_phrase(summary.get('images', 0), summary.get('videos', 0))}: {', '.join(found)}."
    )
    if facts and facts.missing:
        text += f" ({facts.not_detected().capitalize()}.)"
    return text


def model_line(facts: ModelFacts, threshold: float | None) -> str:
    """ "Model: X · finds animals · boxes at or above 0.25 count · people and vehicles are not
    detected by this model"."""
    parts = [
        f"Model: {facts.name}",
        facts.finds().removesuffix(" in camera-trap photos and videos"),
    ]
    if threshold is not None:
        parts.append(f"boxes at or above {threshold:g} count")
    if facts.missing:
        parts.append(facts.not_detected())
    return " · ".join(parts)
