"""Accepting every not-yet-reviewed image in a filter at once (say, all with an animal above
0.95), and undoing that as one action. Set-based, in chunks, so 50,000 images take seconds."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, insert, select, update

from shared.store.final_counts import counted_machine_box
from shared.store.queries import MediaQuery, filtered, with_event
from shared.store.records import KEPT_VERDICTS
from shared.store.review import NotInJob, ReviewAction, ReviewRefused, bump_version
from shared.store.review_state import restore
from shared.store.schema import detections, event_tags, jobs, media, reviews

CHUNK = 2000
T = TypeVar("T")


def chunks(ids: list[T]) -> list[list[T]]:
    """`ids` in pieces small enough for one `IN (...)` on either database."""
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def bulk_accept(
    engine: Engine,
    job_id: str,
    query: MediaQuery,
    reviewer: str,
    now: datetime,
    user_id: int | None = None,
) -> dict[str, Any]:
    """Each image in the filter that nobody reviewed yet is accepted as the AI saw it; one
    review row per image, all sharing a batch id that undoes them together."""
    query.check()
    query, _ = with_event(engine, job_id, replace(query, order="path"))
    ReviewAction("accept", reviewer, media_id=0).check()
    reviewer, batch = reviewer.strip(), secrets.token_hex(8)
    with engine.begin() as conn:
        images, skipped = accept_unreviewed(
            conn, job_id, query, reviewer, now, batch, user_id=user_id
        )
    return {"batch": batch, "images": images, "skipped": skipped}


def accept_unreviewed(
    conn: Connection,
    job_id: str,
    query: MediaQuery,
    reviewer: str,
    now: datetime,
    batch: str,
    *,
    user_id: int | None = None,
    species: str | None = None,
) -> tuple[int, int]:
    """Accepts the filter's unreviewed, readable images in the caller's transaction (with
    `species` named on every animal box they keep); returns how many, and how many it skipped
    because someone reviewed them while it ran. An image is taken only if it is still
    unreviewed when its row is written (the update is the check, and on PostgreSQL the row
    lock), so a review made meanwhile is never overwritten."""
    threshold = conn.execute(select(jobs.c.threshold).where(jobs.c.id == job_id)).scalar()
    if threshold is None:
        raise NotInJob("There is no such job.")
    ids = list(
        conn.execute(
            filtered(job_id, query, media.c.id).where(
                media.c.review == "", media.c.failure.is_(None)
            )
        ).scalars()
    )
    taken = 0
    for chunk in chunks(ids):
        versions = conn.execute(
            update(media)
            .where(media.c.id.in_(chunk), media.c.review == "")
            .values(
                review="accepted",
                verified_outcome=media.c.outcome,
                verified_animals=media.c.animals,
                verified_persons=media.c.persons,
                verified_vehicles=media.c.vehicles,
                reviewer=reviewer,
                reviewed_at=now,
                version=media.c.version + 1,
            )
            .returning(media.c.id, media.c.version)
        ).all()
        mine = [m for m, _ in versions]
        if not mine:
            continue
        taken += len(mine)
        conn.execute(
            update(detections)
            .where(
                detections.c.media_id.in_(mine),
                detections.c.verdict.is_(None),
                counted_machine_box(),
                detections.c.confidence >= threshold,
            )
            .values(verdict="accepted", verified_category=detections.c.category, reviewer=reviewer)
        )
        if species:
            conn.execute(
                update(detections)
                .where(
                    detections.c.media_id.in_(mine),
                    detections.c.verdict.in_(KEPT_VERDICTS),
                    detections.c.verified_category == "1",
                )
                .values(species=species)
            )
        conn.execute(
            insert(reviews),
            [
                {
                    "job_id": job_id,
                    "media_id": m,
                    "action": "accept",
                    "reviewer": reviewer,
                    "user_id": user_id,
                    "created_at": now,
                    "detail": {"bulk": True, **({"species": species} if species else {})},
                    "before": None,
                    "version": v,
                    "batch": batch,
                }
                for m, v in versions
            ],
        )
    return taken, len(ids) - taken


def undo_bulk(
    engine: Engine,
    job_id: str,
    batch: str,
    reviewer: str,
    now: datetime,
    user_id: int | None = None,
) -> dict[str, Any]:
    """Undoes a bulk action (a bulk accept, an event's tag, a group's reject or keep) on every
    image nobody has changed since; says how many were. The batch's images are locked first
    (the event tag's write takes SQLite's write lock, `FOR UPDATE` PostgreSQL's rows), so what
    "changed since" means is decided after any review racing the undo has committed or waits."""
    if not reviewer.strip():
        raise ReviewRefused("reviewer: give your name")
    later = reviews.alias("later")
    with engine.begin() as conn:
        tagged = conn.execute(
            update(event_tags)
            .where(
                event_tags.c.job_id == job_id,
                event_tags.c.batch == batch,
                event_tags.c.undone_at.is_(None),
            )
            .values(undone_at=now)
        ).rowcount
        touched = list(
            conn.execute(
                select(reviews.c.media_id).where(
                    reviews.c.job_id == job_id, reviews.c.batch == batch
                )
            ).scalars()
        )
        for chunk in chunks(sorted(touched)):  # in id order: two undos cannot deadlock
            conn.execute(
                select(media.c.id)
                .where(media.c.id.in_(chunk))
                .order_by(media.c.id)
                .with_for_update()
            ).all()
        live = select(reviews.c.media_id, reviews.c.id, reviews.c.before).where(
            reviews.c.job_id == job_id, reviews.c.batch == batch, reviews.c.undone_at.is_(None)
        )
        rows = conn.execute(live).all()
        # a bulk accept touched only images nobody had reviewed (no snapshot: they are blanked
        # set by set); a group's reject or keep kept each image's state (put back one by one)
        kept_state = {m: before for m, _, before in rows if before is not None}
        if not rows and not tagged:
            raise NotInJob("There is no such bulk action in this job (or it was undone).")
        blocked = set(
            conn.execute(
                select(reviews.c.media_id)
                .join(later, (later.c.media_id == reviews.c.media_id) & (later.c.id > reviews.c.id))
                .where(
                    reviews.c.batch == batch, later.c.undone_at.is_(None), later.c.action != "undo"
                )
            ).scalars()
        )
        ids = [m for m, _, _ in rows if m not in blocked]
        for media_id in (m for m in ids if m in kept_state):
            restore(conn, media_id, kept_state[media_id], None)
            bump_version(conn, media_id, None)
        for chunk in chunks([m for m in ids if m not in kept_state]):
            conn.execute(
                update(detections)
                .where(detections.c.media_id.in_(chunk))
                .values(verdict=None, verified_category=None, species=None, reviewer="")
            )
            conn.execute(
                update(media)
                .where(media.c.id.in_(chunk))
                .values(
                    review="",
                    verified_outcome=None,
                    verified_animals=None,
                    verified_persons=None,
                    verified_vehicles=None,
                    reviewer="",
                    reviewed_at=None,
                    version=media.c.version + 1,
                )
            )
        for chunk in chunks(ids):
            conn.execute(
                update(reviews)
                .where(reviews.c.batch == batch, reviews.c.media_id.in_(chunk))
                .values(undone_at=now)
            )
        conn.execute(
            insert(reviews).values(
                job_id=job_id,
                action="undo",
                reviewer=reviewer.strip(),
                user_id=user_id,
                created_at=now,
                detail={"batch": batch, "images": len(ids)},
            )
        )
    return {"batch": batch, "undone": len(ids), "kept": len(blocked)}
