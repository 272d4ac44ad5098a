"""A person's corrections to a job's results. The machine's detections are never changed: a
review writes its verdict beside them (`verdict`, `verified_category`, `species`), boxes a person
draws are new rows with source "human", and every action is a `reviews` row that keeps what it
replaced, so it can be undone.

The first action on an image means someone looked at it: the detector's boxes at or above the
job's threshold that nobody has judged yet become "accepted" as the AI saw them, then the action
applies. Each change bumps the image's `version`; a change made on an older version is refused
with `Conflict` (two people reviewing one job at once)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from shared.categories import CATEGORY_IDS
from shared.people.errors import PeopleError
from shared.store.final_counts import counted_machine_box
from shared.store.records import KEPT_VERDICTS
from shared.store.review_state import restore, snapshot, summarise
from shared.store.schema import detections, jobs, media, reviews
from shared.surveys.custom_fields import checked_values, merged
from shared.surveys.project_settings import fields_of

ACTIONS = ("accept", "reject", "relabel", "empty", "add", "species", "fields", "rescue", "undo")
MAX_TEXT = 120


class ReviewRefused(ValueError):
    """The action is malformed or not possible on this image; the message says why."""


class NotInJob(LookupError):
    """The image, box or review named is not part of this job."""


class Conflict(Exception):
    """The image changed since the version the action was made on."""

    def __init__(self, message: str, media_id: int) -> None:
        super().__init__(message)
        self.media_id = media_id


@dataclass(frozen=True)
class ReviewAction:
    action: str
    reviewer: str
    media_id: int | None = None
    detection_id: int | None = None
    version: int | None = None  # the image's version the person saw; None: whatever is current
    category: str | None = None  # animal | person | vehicle (relabel, add)
    species: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # normalised x, y, w, h (add)
    review_id: int | None = None  # undo
    frame: int | None = None  # add, on a video: the checked frame the box was drawn on
    user_id: int | None = None  # the logged-in account that made it; None on an open site
    fields: dict[str, Any] | None = None  # fields: {project field: value, or None to clear}

    def check(self) -> None:
        if self.action not in ACTIONS:
            raise ReviewRefused(f"action must be one of {', '.join(ACTIONS)}")
        if not self.reviewer.strip() or len(self.reviewer) > MAX_TEXT:
            raise ReviewRefused("reviewer: give your name (up to 120 characters)")
        needs = {
            "reject": "detection_id",
            "relabel": "detection_id",
            "species": "detection_id",
            "fields": "detection_id",
            "rescue": "detection_id",
            "undo": "review_id",
            "add": "media_id",
            "empty": "media_id",
        }.get(self.action)
        if needs and getattr(self, needs) is None:
            raise ReviewRefused(f"{self.action} needs {needs}")
        if self.action == "accept" and self.media_id is None and self.detection_id is None:
            raise ReviewRefused("accept needs media_id (the image) or detection_id (one box)")
        if self.action in ("relabel", "add") and self.category not in CATEGORY_IDS:
            raise ReviewRefused("category must be animal, person or vehicle")
        if self.species is not None and len(self.species) > MAX_TEXT:
            raise ReviewRefused("species: up to 120 characters")
        if self.action == "add":
            _check_box(self.bbox)
        if self.action == "fields" and not isinstance(self.fields, dict):
            raise ReviewRefused("fields needs fields: {field name: value}")


def _check_box(bbox: tuple[float, ...] | None) -> None:
    if bbox is None or len(bbox) != 4:
        raise ReviewRefused("bbox is [x, y, width, height], each a fraction of the image")
    x, y, w, h = bbox
    if not (
        0 <= x < 1
        and 0 <= y < 1
        and 0.002 <= w <= 1
        and 0.002 <= h <= 1
        and x + w <= 1.0001
        and y + h <= 1.0001
    ):
        raise ReviewRefused("bbox must lie inside the image: [x, y, width, height] in 0..1")


def apply(engine: Engine, job_id: str, action: ReviewAction, now: datetime) -> dict[str, Any]:
    """Applies one action in one transaction; returns the review's id and the image's new
    version."""
    action.check()
    if action.action == "fields":  # checked against the fields the job's project defines
        try:
            action = replace(
                action, fields=checked_values(fields_of(engine, job_id), action.fields)
            )
        except PeopleError as exc:
            raise ReviewRefused(str(exc)) from None
    with engine.begin() as conn:
        if action.action == "undo":
            assert action.review_id is not None
            reviewer = action.reviewer.strip()
            return _undo(conn, job_id, action.review_id, reviewer, now, action.user_id)
        media_id = _media_of(conn, job_id, action)
        version = bump_version(conn, media_id, action.version)
        threshold = conn.execute(select(jobs.c.threshold).where(jobs.c.id == job_id)).scalar_one()
        before = snapshot(conn, media_id)
        reviewer = action.reviewer.strip()
        accept_unjudged(conn, media_id, threshold, reviewer)
        detail = _ACTIONS[action.action](conn, media_id, action, reviewer)
        summarise(conn, media_id, threshold, reviewer, now)
        review_id = conn.execute(
            insert(reviews).values(
                job_id=job_id,
                media_id=media_id,
                detection_id=action.detection_id,
                action=action.action,
                new_category=CATEGORY_IDS.get(action.category or ""),
                species=(action.species or "").strip() or None,
                reviewer=reviewer,
                user_id=action.user_id,
                created_at=now,
                detail=detail,
                before=before,
                version=version,
            )
        ).inserted_primary_key
    return {
        "review_id": review_id[0] if review_id else None,
        "media_id": media_id,
        "version": version,
    }


def _media_of(conn: Connection, job_id: str, action: ReviewAction) -> int:
    """The image the action is about, refusing anything outside this job."""
    if action.detection_id is not None:
        found = conn.execute(
            select(detections.c.media_id)
            .join(media)
            .where(detections.c.id == action.detection_id, media.c.job_id == job_id)
        ).scalar()
        if found is None or (action.media_id is not None and found != action.media_id):
            raise NotInJob("There is no such box in this job.")
        media_id = int(found)
    else:
        media_id = int(action.media_id or 0)
    row = conn.execute(
        select(media.c.failure).where(media.c.id == media_id, media.c.job_id == job_id)
    ).first()
    if row is None:
        raise NotInJob("There is no such image in this job.")
    if row.failure is not None:
        raise ReviewRefused("This file could not be read, so it has nothing to review.")
    return media_id


def bump_version(conn: Connection, media_id: int, seen: int | None) -> int:
    """The image's next version; the update is the check (and, on PostgreSQL, the row lock)."""
    stmt = update(media).where(media.c.id == media_id)
    if seen is not None:
        stmt = stmt.where(media.c.version == seen)
    if not conn.execute(stmt.values(version=media.c.version + 1)).rowcount:
        raise Conflict(
            "Someone else changed this image since you opened it; it has been "
            "reloaded with their change.",
            media_id,
        )
    return int(conn.execute(select(media.c.version).where(media.c.id == media_id)).scalar_one())


def accept_unjudged(conn: Connection, media_id: int, threshold: float, reviewer: str) -> None:
    """A first look at an image: the boxes the machine counted that nobody judged are accepted
    as it saw them."""
    conn.execute(
        update(detections)
        .where(
            detections.c.media_id == media_id,
            detections.c.verdict.is_(None),
            counted_machine_box(),
            detections.c.confidence >= threshold,
        )
        .values(verdict="accepted", verified_category=detections.c.category, reviewer=reviewer)
    )


def _box(conn: Connection, action: ReviewAction) -> Any:
    return conn.execute(select(detections).where(detections.c.id == action.detection_id)).one()


def _judge(conn: Connection, detection_id: int, reviewer: str, **values: Any) -> None:
    conn.execute(
        update(detections)
        .where(detections.c.id == detection_id)
        .values(reviewer=reviewer, **values)
    )


def _accept(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    if action.detection_id is not None:
        box = _box(conn, action)
        if box.verdict not in KEPT_VERDICTS:
            _judge(conn, box.id, reviewer, verdict="accepted", verified_category=box.category)
    return {}


def _reject(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    _judge(conn, _box(conn, action).id, reviewer, verdict="rejected")
    return {}


def _relabel(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    box = _box(conn, action)
    new = CATEGORY_IDS[action.category or ""]
    verdict = (
        "added" if box.source == "human" else ("accepted" if new == box.category else "changed")
    )
    species = box.species if new == "1" else None  # a species names an animal only
    _judge(conn, box.id, reviewer, verdict=verdict, verified_category=new, species=species)
    return {}


def _empty(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    conn.execute(
        update(detections)
        .where(detections.c.media_id == media_id)
        .values(verdict="rejected", reviewer=reviewer)
    )
    return {}


def _add(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    assert action.bbox is not None
    if action.frame is not None:
        video = conn.execute(select(media.c.video).where(media.c.id == media_id)).scalar_one()
        if action.frame not in ((video or {}).get("frames_processed") or []):
            raise ReviewRefused("frame must be one of the video's checked frames")
    x, y, w, h = (round(float(v), 6) for v in action.bbox)
    category = CATEGORY_IDS[action.category or ""]
    species = (action.species or "").strip() or None
    added = conn.execute(
        insert(detections).values(
            media_id=media_id,
            category=category,
            confidence=1.0,
            x=x,
            y=y,
            w=min(w, 1 - x),
            h=min(h, 1 - y),
            frame=action.frame,
            source="human",
            model="",
            verdict="added",
            verified_category=category,
            species=species if category == "1" else None,
            reviewer=reviewer,
        )
    ).inserted_primary_key
    return {"added": added[0] if added else None, "bbox": [x, y, w, h]}


def _keep(conn: Connection, box: Any, reviewer: str, what: str, **values: Any) -> None:
    """Records `values` on a box that is kept (accepting it if nobody had judged it yet);
    a rejected box is refused."""
    if box.verdict == "rejected":
        raise ReviewRefused(f"This box was rejected; accept it before {what}.")
    verdict = box.verdict if box.verdict in KEPT_VERDICTS else "accepted"
    values.setdefault("verified_category", box.verified_category or box.category)
    _judge(conn, box.id, reviewer, verdict=verdict, **values)


def _species(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    box = _box(conn, action)
    if box.verdict != "rejected" and (box.verified_category or box.category) != "1":
        raise ReviewRefused("A species can only be named on an animal box.")
    name = (action.species or "").strip() or None
    _keep(conn, box, reviewer, "naming its species", verified_category="1", species=name)
    return {}


def _fields(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    box = _box(conn, action)
    kept = merged(box.fields, action.fields or {})
    _keep(conn, box, reviewer, "recording its fields", fields=kept)
    return {"fields": action.fields}


def _rescue(conn: Connection, media_id: int, action: ReviewAction, reviewer: str) -> dict:
    """Keeps a box of a repeated group as the machine saw it (an animal that really stood where
    the branch is), before or after its group is rejected: a later group reject leaves it."""
    box = _box(conn, action)
    if box.source != "machine":
        raise ReviewRefused("Only the machine's boxes can be rescued.")
    _judge(conn, box.id, reviewer, verdict="accepted", verified_category=box.category)
    return {}


_ACTIONS = {
    "accept": _accept,
    "reject": _reject,
    "relabel": _relabel,
    "empty": _empty,
    "add": _add,
    "species": _species,
    "fields": _fields,
    "rescue": _rescue,
}


def _undo(
    conn: Connection,
    job_id: str,
    review_id: int,
    reviewer: str,
    now: datetime,
    user_id: int | None,
) -> dict[str, Any]:
    found = conn.execute(
        select(reviews).where(reviews.c.id == review_id, reviews.c.job_id == job_id)
    ).first()
    if found is None or found.action == "undo":
        raise NotInJob("There is no such review in this job.")
    # the image's version first: it is the lock (a row lock on PostgreSQL, the write lock on
    # SQLite), so an undo or change of the image made meanwhile is seen by the checks below
    version = bump_version(conn, found.media_id, None)
    marked = conn.execute(
        update(reviews)
        .where(reviews.c.id == review_id, reviews.c.undone_at.is_(None))
        .values(undone_at=now)
    )
    if not marked.rowcount:
        raise Conflict("This change was already undone.", found.media_id)
    later = conn.execute(
        select(reviews.c.reviewer).where(
            reviews.c.media_id == found.media_id,
            reviews.c.id > review_id,
            reviews.c.undone_at.is_(None),
            reviews.c.action != "undo",
        )
    ).first()
    if later is not None:
        raise Conflict(
            f"{later.reviewer or 'Someone'} changed this image after that; undo their "
            "change first.",
            found.media_id,
        )
    restore(conn, found.media_id, found.before, (found.detail or {}).get("added"))
    conn.execute(
        insert(reviews).values(
            job_id=job_id,
            media_id=found.media_id,
            action="undo",
            reviewer=reviewer,
            user_id=user_id,
            created_at=now,
            detail={"review_id": review_id},
            version=version,
        )
    )
    return {"review_id": review_id, "media_id": found.media_id, "version": version}
