"""Judging a whole group of repeated boxes at once (issue 29): rejecting it (a branch the
detector fired on in 3,000 files) or keeping it (an animal that really stands there), as one
batch of reviews that `undo_bulk` takes back together.

Each image of the group is reviewed as a person's first look reviews it (the other boxes the
machine counted are accepted as it saw them), then the group's boxes on it get the verdict; an
image left without a kept box becomes empty. A box a reviewer rescued (`rescue`, kept as it is)
stays kept when its group is rejected later. Every image's review row keeps the state it
replaced, so undo puts back exactly what was there, reviewed or not."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from shared.store.bulk_review import chunks
from shared.store.review import NotInJob, ReviewRefused, accept_unjudged, bump_version
from shared.store.review_state import snapshot, summarise
from shared.store.schema import detections, jobs, media, reviews

GROUP_ACTIONS = ("reject_group", "keep_group")


def judge_group(
    engine: Engine,
    job_id: str,
    action: str,
    group: str,
    box_ids: Iterable[int],
    reviewer: str,
    now: datetime,
    user_id: int | None = None,
) -> dict[str, Any]:
    """`action` (reject_group or keep_group) on the boxes of `group`, all in this job; one
    review row per image, sharing a batch id."""
    if action not in GROUP_ACTIONS:
        raise ReviewRefused("action must be reject_group or keep_group")
    reviewer = reviewer.strip()
    if not reviewer:
        raise ReviewRefused("reviewer: give your name")
    wanted = sorted(set(box_ids))
    batch = secrets.token_hex(8)
    with engine.begin() as conn:
        threshold = conn.execute(select(jobs.c.threshold).where(jobs.c.id == job_id)).scalar()
        if threshold is None:
            raise NotInJob("There is no such job.")
        by_media = _boxes_by_media(conn, job_id, wanted)
        kept = rescued(conn, wanted) if action == "reject_group" else set()
        judged = 0
        for media_id, boxes in sorted(by_media.items()):
            mine = [b for b in boxes if b not in kept]
            before = snapshot(conn, media_id)
            _judge_image(conn, media_id, mine, action, threshold, reviewer, now)
            version = bump_version(conn, media_id, None)
            conn.execute(
                insert(reviews).values(
                    job_id=job_id,
                    media_id=media_id,
                    action=action,
                    reviewer=reviewer,
                    user_id=user_id,
                    created_at=now,
                    detail={"group": group, "boxes": mine},
                    before=before,
                    version=version,
                    batch=batch,
                )
            )
            judged += len(mine)
    return {
        "batch": batch,
        "group": group,
        "images": len(by_media),
        "boxes": judged,
        "rescued": len(kept),
    }


def rescued(conn: Connection, box_ids: list[int]) -> set[int]:
    """Of `box_ids`, those a reviewer rescued (and did not undo)."""
    found: set[int] = set()
    for chunk in chunks(box_ids):
        found |= set(
            conn.execute(
                select(reviews.c.detection_id).where(
                    reviews.c.action == "rescue",
                    reviews.c.undone_at.is_(None),
                    reviews.c.detection_id.in_(chunk),
                )
            ).scalars()
        )
    return found


def _boxes_by_media(conn: Connection, job_id: str, box_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for chunk in chunks(box_ids):
        rows = conn.execute(
            select(detections.c.id, detections.c.media_id)
            .join(media, media.c.id == detections.c.media_id)
            .where(
                detections.c.id.in_(chunk),
                media.c.job_id == job_id,
                detections.c.source == "machine",
            )
        ).all()
        for box_id, media_id in rows:
            found.setdefault(media_id, []).append(box_id)
    if len({b for boxes in found.values() for b in boxes}) != len(box_ids):
        raise NotInJob("The group holds boxes that are not this job's.")
    return found


def _judge_image(
    conn: Connection,
    media_id: int,
    boxes: list[int],
    action: str,
    threshold: float,
    reviewer: str,
    now: datetime,
) -> None:
    accept_unjudged(conn, media_id, threshold, reviewer)
    if boxes and action == "reject_group":
        conn.execute(
            update(detections)
            .where(detections.c.id.in_(boxes))
            .values(verdict="rejected", reviewer=reviewer)
        )
    elif boxes:  # keep: a box someone rejected is kept as the machine saw it; kept ones stay
        conn.execute(
            update(detections)
            .where(detections.c.id.in_(boxes), detections.c.verdict == "rejected")
            .values(verdict="accepted", verified_category=detections.c.category, reviewer=reviewer)
        )
    summarise(conn, media_id, threshold, reviewer, now)
