"""A job's stored files as deployments and events see them: one light row each (no boxes), in
upload order, counted as every figure counts them (the review where there is one), with the
species its reviewer named."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, func, select

from shared.categories import CATEGORY_LABELS
from shared.events.grouping import deployments, events, with_tags
from shared.events.model import Deployment, Event, EventTag, Item
from shared.store.final_counts import final_count
from shared.store.records import KEPT_VERDICTS
from shared.store.schema import detections, event_tags, media
from shared.store.snapshot import Reader


def event_items(engine: Reader, job_id: str) -> list[Item]:
    columns = (
        media.c.id,
        media.c.path,
        media.c.captured,
        *(final_count(value).label(f"n{value}") for value in CATEGORY_LABELS),
        media.c.max_conf,
        media.c.failure,
        media.c.serial,
        media.c.make,
        media.c.model,
        media.c.latitude,
        media.c.longitude,
        media.c.verified_outcome,
        media.c.reviewer,
        media.c.kind,
        media.c.video,
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(*columns).where(media.c.job_id == job_id).order_by(media.c.ordinal, media.c.id)
        ).all()
        named = named_species(conn, job_id)
    return [
        Item(
            r.path,
            r.captured,
            {label: int(r._mapping[f"n{value}"] or 0) for value, label in CATEGORY_LABELS.items()},
            r.max_conf,
            r.failure is not None,
            r.serial,
            r.make,
            r.model,
            r.latitude,
            r.longitude,
            reviewed=r.verified_outcome is not None,
            species=named.get(r.id, {}),
            reviewer=r.reviewer if r.verified_outcome is not None else "",
            duration=float((r.video or {}).get("duration") or 0.0) if r.kind == "video" else 0.0,
        )
        for r in rows
    ]


def named_species(conn: Connection, job_id: str) -> dict[int, dict[str, int]]:
    """{media id: {species: boxes}} of the animal boxes reviewers kept and named (a video's
    most in any one checked frame)."""
    rows = conn.execute(
        select(detections.c.media_id, detections.c.frame, detections.c.species, func.count())
        .join(media, media.c.id == detections.c.media_id)
        .where(
            media.c.job_id == job_id,
            media.c.review > "",
            detections.c.verdict.in_(KEPT_VERDICTS),
            detections.c.verified_category == "1",
            detections.c.species.is_not(None),
        )
        .group_by(detections.c.media_id, detections.c.frame, detections.c.species)
    ).all()
    found: dict[int, Counter[str]] = {}
    for media_id, _, species, n in rows:
        into = found.setdefault(media_id, Counter())
        into[species] = max(into[species], int(n))
    return {media_id: dict(counts) for media_id, counts in found.items()}


def tags_of(conn: Connection, job_id: str) -> dict[str, EventTag]:
    """The live tags of a job's events (`shared.store.event_tags`) by first file; the newest
    one where an event was tagged twice."""
    rows = conn.execute(
        select(event_tags)
        .where(event_tags.c.job_id == job_id, event_tags.c.undone_at.is_(None))
        .order_by(event_tags.c.id)
    ).all()
    return {
        r.first_path: EventTag(
            r.first_path, r.files, r.species, r._mapping["count"], r.reviewer, r.fields or {}
        )
        for r in rows
    }


def job_events(
    engine: Reader, job_id: str, gap_seconds: float, level: int
) -> tuple[list[Deployment], list[Event]]:
    """The job's deployments and events, each event with the tag a reviewer gave it."""
    found = deployments(event_items(engine, job_id), level)
    with engine.connect() as conn:
        tags = tags_of(conn, job_id)
    return found, with_tags(events(found, gap_seconds), tags)
