"""Suspected repeats of a job or a project, read from the stored boxes: the machine's boxes at
each card's threshold, each with the location and event of its file as the events APIs see them
(a job's camera folders; a project's registered locations, over every card), grouped location
by location (`shared.repeats.grouping`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from shared.categories import CATEGORY_LABELS
from shared.repeats.appearance import Look, looks_apart
from shared.repeats.grouping import Box, Group, RepeatRules, iou, suspected_repeats
from shared.store.bulk_review import chunks
from shared.store.event_data import job_events
from shared.store.final_counts import counted_machine_box
from shared.store.group_review import rescued
from shared.store.reads import job_row
from shared.store.records import KEPT_VERDICTS, frame_thumbnail
from shared.store.schema import detections, media, repeat_looks
from shared.surveys.events import SEPARATOR, card_of, project_events


@dataclass(frozen=True)
class RepeatGroup:
    """One suspected repeat at one location, as the API and the page show it."""

    location: str
    location_files: int
    group: Group
    rescued: frozenset[int] = frozenset()  # its boxes a reviewer rescued
    jobs: Mapping[int, str] = field(default_factory=dict)  # box id -> card, a project's group

    def boxes_by_job(self) -> dict[str, list[int]]:
        """A project's group's boxes, card by card."""
        found: dict[str, list[int]] = {}
        for box_id, job_id in self.jobs.items():
            found.setdefault(job_id, []).append(box_id)
        return found

    def job_of(self, box_id: int) -> str:
        return self.jobs.get(box_id, "")

    @property
    def state(self) -> str:
        """rejected (every box rejected but those rescued), kept (every box judged and kept),
        or suspected (not judged as a whole yet)."""
        verdicts = [b.verdict for b in self.group.boxes]
        rejected = verdicts.count("rejected")
        if rejected and rejected + len(self.rescued) >= len(verdicts):
            return "rejected"
        if not rejected and all(v in KEPT_VERDICTS for v in verdicts):
            return "kept"
        return "suspected"

    def box_ids(self) -> list[int]:
        return [b.id for b in self.group.boxes]

    def probably_animal(self) -> list[Box]:
        """Its boxes whose crops look unlike the group's typical one (`shared.repeats.appearance`):
        probably a real animal standing in the same place."""
        return [b for b in self.group.boxes if looks_apart(b.appearance)]

    def shown(self, limit: int = 150) -> list[tuple[Box, float]]:
        """Up to `limit` boxes with how well each matches the group's place (IoU): those that
        look like a real animal first, then the least typical in place (where an animal in the
        same spot shows), then the most typical."""
        place = self.group.bbox
        ranked = sorted(
            ((b, iou(b.bbox, place)) for b in self.group.boxes),
            key=lambda p: (
                -(p[0].appearance or 0.0) if looks_apart(p[0].appearance) else 0.0,
                p[1],
                p[0].id,
            ),
        )
        if len(ranked) <= limit:
            return ranked
        least = ranked[: limit // 2]
        most = ranked[-(limit - limit // 2) :]
        return least + most

    @property
    def id(self) -> str:
        # the group's first box: stable while the stored boxes and the rules stay as they are
        return f"{self.group.leader.id}"

    def public(self) -> dict[str, Any]:
        g = self.group
        return {
            "id": self.id,
            "location": self.location,
            "category": g.category,
            "bbox": [round(v, 4) for v in g.bbox],
            "files": g.files,
            "boxes": len(g.boxes),
            "events": g.events,
            "days": g.days,
            "share": round(g.files / max(self.location_files, 1), 3),
            "first": _iso(g.first),
            "last": _iso(g.last),
            "media": sorted({b.media_id for b in g.boxes}),
            "probably_animal": sorted({b.media_id for b in self.probably_animal()}),
            "state": self.state,
            "rejected": sum(b.verdict == "rejected" for b in g.boxes),
            "rescued": len(self.rescued),
        }


def job_repeats(
    engine: Engine,
    job_id: str,
    rules: RepeatRules,
    *,
    threshold: float,
    gap_seconds: float,
    level: int,
) -> list[RepeatGroup]:
    """The job's suspected repeats, location (camera folder) by location, largest first within
    each."""
    cameras, found = job_events(engine, job_id, gap_seconds, level)
    place = {path: (e.deployment, e.id) for e in found for path in e.files}
    boxes = _boxes(engine, job_id, threshold, lambda path: place.get(path, ("", "")))
    return _suspected(engine, boxes, {d.id: len(d.items) for d in cameras}, rules)


def project_repeats(
    engine: Engine,
    project_id: int,
    job_ids: list[str],
    rules: RepeatRules,
    *,
    gap_seconds: float,
    now: datetime,
) -> list[RepeatGroup]:
    """A project's suspected repeats over the cards `job_ids` (those the caller may see): each
    registered location's files of every card together, each card's boxes at its own threshold,
    events across cards as the project's events API has them."""
    found = project_events(engine, project_id, job_ids, gap_seconds, now=now)
    place = {key: (e.deployment, e.id) for e in found.events for key in e.files}
    boxes: list[tuple[str, Box]] = []
    card: dict[int, str] = {}
    for job_id in sorted({card_of(key)[0] for key in place}):
        job = job_row(engine, job_id)
        if job is None:
            continue
        mine = _boxes(engine, job_id, job.threshold, partial(_card_place, place, job_id))
        card.update((box.id, job_id) for _, box in mine)
        boxes += mine
    files = {d.id: len(d.items) for _, d, _ in found.locations}
    return [
        replace(g, jobs={b.id: card[b.id] for b in g.group.boxes})
        for g in _suspected(engine, boxes, files, rules)
    ]


def _card_place(place: dict[str, tuple[str, str]], job_id: str, path: str) -> tuple[str, str]:
    return place.get(f"{job_id}{SEPARATOR}{path}", ("", ""))


# a box, where it is in the frame and the file it is in
BOX_PLACE = (
    detections.c.id,
    detections.c.category,
    detections.c.x,
    detections.c.y,
    detections.c.w,
    detections.c.h,
    media.c.path,
)


def _boxes(
    engine: Engine, job_id: str, threshold: float, place: Callable[[str], tuple[str, str]]
) -> list[tuple[str, Box]]:
    """The job's machine boxes at `threshold`, each with its location; `place(path)` gives a
    file's (location, event)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                *BOX_PLACE,
                detections.c.media_id,
                media.c.captured,
                detections.c.verdict,
                detections.c.appearance,
            )
            .join(media, media.c.id == detections.c.media_id)
            .where(
                media.c.job_id == job_id,
                media.c.failure.is_(None),
                counted_machine_box(),
                detections.c.confidence >= threshold,
            )
        ).all()
    found = []
    for r in rows:
        location, event = place(r.path)
        label = CATEGORY_LABELS.get(r.category, r.category)
        found.append(
            (
                location,
                Box(
                    r.id,
                    r.media_id,
                    label,
                    (r.x, r.y, r.w, r.h),
                    r.captured,
                    event,
                    r.verdict,
                    r.appearance,
                ),
            )
        )
    return found


def _suspected(
    engine: Engine, boxes: list[tuple[str, Box]], files: dict[str, int], rules: RepeatRules
) -> list[RepeatGroup]:
    by_location: dict[str, list[Box]] = {}
    for location, box in boxes:
        by_location.setdefault(location, []).append(box)
    found = [
        (location, group)
        for location in sorted(by_location)
        for group in suspected_repeats(by_location[location], rules, files.get(location, 0))
    ]
    with engine.connect() as conn:
        saved = rescued(conn, [b.id for _, g in found for b in g.boxes])
    return [
        RepeatGroup(
            location,
            files.get(location, 0),
            group,
            frozenset(b.id for b in group.boxes if b.id in saved),
        )
        for location, group in found
    ]


@dataclass(frozen=True)
class BoxPicture:
    """Where a box's picture is: the file's web rendition (a photo) or its checked frame's
    filmstrip thumbnail (a video), by name in the job's thumbnail folder."""

    media_id: int
    path: str
    picture: str
    bbox: tuple[float, float, float, float]


def box_pictures(engine: Engine, job_id: str, box_ids: list[int]) -> dict[int, BoxPicture]:
    """The pictures of `box_ids` that are this job's and have one."""
    found: dict[int, BoxPicture] = {}
    with engine.connect() as conn:
        for chunk in chunks(box_ids):
            rows = conn.execute(
                select(
                    detections.c.id,
                    detections.c.frame,
                    detections.c.x,
                    detections.c.y,
                    detections.c.w,
                    detections.c.h,
                    media.c.id.label("media_id"),
                    media.c.path,
                    media.c.view,
                    media.c.thumbnail,
                )
                .join(media, media.c.id == detections.c.media_id)
                .where(detections.c.id.in_(chunk), media.c.job_id == job_id)
            ).all()
            for r in rows:
                if r.frame is not None and r.thumbnail:
                    picture = frame_thumbnail(r.thumbnail, r.frame)
                else:
                    picture = r.view or r.thumbnail
                if picture:
                    found[r.id] = BoxPicture(r.media_id, r.path, picture, (r.x, r.y, r.w, r.h))
    return found


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def store_appearance(engine: Engine, scores: Mapping[int, float]) -> None:
    """Each box's appearance score (how unlike its group's typical crop it looks)."""
    if not scores:
        return
    statement = (
        update(detections)
        .where(detections.c.id == bindparam("box"))
        .values(appearance=bindparam("score"))
    )
    with engine.begin() as conn:
        conn.execute(statement, [{"box": k, "score": float(v)} for k, v in scores.items()])


def store_looks(engine: Engine, looks: Mapping[int, tuple[str, Look]]) -> None:
    """Each group's typical look by its first box, with the embedder that measured it."""
    if not looks:
        return
    with engine.begin() as conn:
        conn.execute(delete(repeat_looks).where(repeat_looks.c.leader_id.in_(list(looks))))
        conn.execute(
            insert(repeat_looks),
            [
                {"leader_id": leader, "embedder": name, "look": look.public()}
                for leader, (name, look) in looks.items()
            ],
        )


def look_among(conn: Connection, box_ids: list[int]) -> dict[str, Any] | None:
    """A measured look of a group among these boxes ({"embedder", "median", "spread"}), the
    first group's where they span several; None where none was measured."""
    for chunk in chunks(sorted(box_ids)):
        row = conn.execute(
            select(repeat_looks.c.embedder, repeat_looks.c.look)
            .where(repeat_looks.c.leader_id.in_(chunk))
            .order_by(repeat_looks.c.leader_id)
            .limit(1)
        ).first()
        if row is not None:
            return {"embedder": row.embedder, **row.look}
    return None
