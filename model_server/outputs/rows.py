"""The rows of the Media, Frames and Detections tables (Excel sheets and CSVs), made from stored
media records at the run's threshold, with what reviewers said beside the machine's own values.
A video is one Media row (its counts are the most boxes seen in any one checked frame); each
of its checked frames with a detection is a Frames row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.categories import CATEGORY_LABELS
from shared.store.records import MediaRecord

REVIEW_COLUMNS = ("review", "reviewer", "verified_category", "species")
# `species` is the reviewer's answer where there is one, else the class set's suggestion:
# `species_source` says which (review | machine); distance and runner-up are the machine's
SPECIES_COLUMNS = ("species_source", "species_distance", "species_runner_up")
MEDIA_COLUMNS = (
    "file",
    "folder",
    "kind",
    "deployment",
    "event_id",
    "outcome",
    "animals",
    "persons",
    "vehicles",
    "max_confidence",
    *REVIEW_COLUMNS,
    "species_source",
    "captured",
    "camera_clock",
    "make",
    "model",
    "serial",
    "latitude",
    "longitude",
    "altitude_m",
    "altitude_ref",
    "map_link",
    "width",
    "height",
    "duration_s",
    "frame_rate",
    "codec",
    "frames_checked",
    "best_frame",
    "best_frame_s",
    "first_seen",
    "failure",
    "exif_notes",
)
FRAME_COLUMNS = ("file", "frame", "time_s", "animals", "persons", "vehicles", "max_confidence")
DETECTION_COLUMNS = (
    "file",
    "frame",
    "category",
    "confidence",
    "source",
    *REVIEW_COLUMNS,
    *SPECIES_COLUMNS,
    "x_min",
    "y_min",
    "width",
    "height",
    "x_min_px",
    "y_min_px",
    "width_px",
    "height_px",
)


def species_of(record: MediaRecord, threshold: float) -> tuple[str, str]:
    """The species in a file and where they come from: the reviewer's, or on a file nobody
    reviewed the class set's suggestions for its animal boxes at the threshold."""
    named = {d["species"] for d in record.kept() if d.get("species")}
    if named or record.review:
        return "; ".join(sorted(named)), "review" if named else ""
    suggested = {
        d["suggested_species"] for d in record.above(threshold) if d.get("suggested_species")
    }
    return "; ".join(sorted(suggested)), "machine" if suggested else ""


def box_species(det: dict[str, Any]) -> dict[str, Any]:
    """A box's species columns."""
    if det.get("species"):
        species, source = det["species"], "review"
    elif det.get("suggested_species"):
        species, source = det["suggested_species"], "machine"
    else:
        species, source = "", ""
    return {
        "species": species,
        "species_source": source,
        "species_distance": det.get("species_distance"),
        "species_runner_up": det.get("species_runner_up") or "",
    }


def _frame_times(record: MediaRecord) -> dict[int, float]:
    video = record.video or {}
    return dict(zip(video.get("frames_processed", []), video.get("frame_times", []), strict=False))


def first_seen(record: MediaRecord, threshold: float) -> str:
    """In which checked frame each category was first seen at `threshold`, e.g.
    `animal: frame 10 (2.0 s); person: frame 0 (0.0 s)`."""
    times = _frame_times(record)
    first: dict[str, int] = {}
    for det in record.above(threshold):
        if det.get("frame") is not None:
            first[det["category"]] = min(first.get(det["category"], det["frame"]), det["frame"])
    return "; ".join(
        f"{label}: frame {first[value]} ({times.get(first[value], 0):.1f} s)"
        for value, label in CATEGORY_LABELS.items()
        if value in first
    )


def _video_columns(record: MediaRecord, threshold: float) -> dict[str, Any]:
    video = record.video or {}
    if record.kind != "video" or not video:
        return {}
    times = _frame_times(record)
    best = video.get("best_frame")
    return {
        "duration_s": video.get("duration"),
        "frame_rate": video.get("frame_rate"),
        "codec": video.get("codec"),
        "frames_checked": len(times),
        "best_frame": best,
        "best_frame_s": times.get(best) if best is not None else None,
        "first_seen": first_seen(record, threshold),
    }


def media_row(record: MediaRecord, threshold: float) -> dict[str, Any]:
    found = record.counts(threshold)
    counts = {label: found[value] for value, label in CATEGORY_LABELS.items()}
    meta = record.metadata
    return {
        "file": record.file,
        "kind": record.kind,
        "folder": record.folder,  # the camera folder, "" at the top level
        "outcome": record.outcome(threshold),
        "animals": counts["animal"],
        "persons": counts["person"],
        "vehicles": counts["vehicle"],
        "max_confidence": record.max_conf,
        "review": record.review,
        "reviewer": record.reviewer,
        "verified_category": record.verified_outcome if record.review else "",
        **dict(zip(("species", "species_source"), species_of(record, threshold), strict=True)),
        "captured": record.captured,
        # the camera's own time where a person corrected its clock (`captured` has the fix)
        "camera_clock": record.camera_clock,
        **{
            k: meta.get(k)
            for k in (
                "make",
                "model",
                "serial",
                "latitude",
                "longitude",
                "altitude_m",
                "altitude_ref",
                "map_link",
            )
        },
        "width": record.width,
        "height": record.height,
        **_video_columns(record, threshold),
        "failure": record.failure or "",
        "exif_notes": meta.get("exif_notes", ""),
    }


def reported(record: MediaRecord, threshold: float) -> list[dict[str, Any]]:
    """The detector's boxes at the threshold, and every box a reviewer judged or drew."""
    return [
        d
        for d in record.detections
        if d.get("verdict") or (d.get("source", "machine") == "machine" and d["conf"] >= threshold)
    ]


def detection_rows(record: MediaRecord, threshold: float) -> Iterator[dict[str, Any]]:
    for det in reported(record, threshold):
        x, y, w, h = det["bbox"]
        px = (record.width or 0, record.height or 0)
        human = det.get("source") == "human"
        verified = det.get("verified_category") if det.get("verdict") != "rejected" else None
        yield {
            "file": record.file,
            "frame": det.get("frame"),
            "category": CATEGORY_LABELS[det["category"]],
            "confidence": None if human else det["conf"],
            "source": det.get("source", "machine"),
            "review": det.get("verdict") or "",
            "reviewer": det.get("reviewer") or "",
            "verified_category": CATEGORY_LABELS.get(verified, "") if verified else "",
            **box_species(det),
            **(det.get("fields") or {}),  # the project's own fields, a column each
            "x_min": x,
            "y_min": y,
            "width": w,
            "height": h,
            "x_min_px": round(x * px[0]),
            "y_min_px": round(y * px[1]),
            "width_px": round(w * px[0]),
            "height_px": round(h * px[1]),
        }


def frame_rows(record: MediaRecord, threshold: float) -> Iterator[dict[str, Any]]:
    """One row per checked frame of a video with a detection at the threshold."""
    times = _frame_times(record)
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for det in record.above(threshold):
        if det.get("frame") is not None:
            by_frame.setdefault(det["frame"], []).append(det)
    for frame in sorted(by_frame):
        dets = by_frame[frame]
        yield {
            "file": record.file,
            "frame": frame,
            "time_s": times.get(frame),
            **{
                label: sum(1 for d in dets if d["category"] == value)
                for value, label in (("1", "animals"), ("2", "persons"), ("3", "vehicles"))
            },
            "max_confidence": max(d["conf"] for d in dets),
        }
