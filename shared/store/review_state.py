"""An image's review state: what undo keeps of it, how it is put back, and the image-level
summary (`review`, `verified_outcome`) worked out from its boxes' verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from shared.store.records import COUNT_COLUMNS, KEPT_VERDICTS, most_in_a_frame, outcome_of
from shared.store.schema import detections, media

VERIFIED_COLUMNS = {value: f"verified_{column}" for value, column in COUNT_COLUMNS.items()}

MEDIA_FIELDS = ("review", "verified_outcome", "reviewer", "reviewed_at")
BOX_FIELDS = ("verdict", "verified_category", "species", "reviewer", "fields")


def snapshot(conn: Connection, media_id: int) -> dict[str, Any]:
    """The image's and its boxes' review fields, as JSON."""
    row = conn.execute(
        select(*(media.c[f] for f in MEDIA_FIELDS)).where(media.c.id == media_id)
    ).one()
    image = dict(row._mapping)
    if image["reviewed_at"] is not None:
        image["reviewed_at"] = image["reviewed_at"].isoformat()
    boxes = conn.execute(
        select(detections.c.id, *(detections.c[f] for f in BOX_FIELDS)).where(
            detections.c.media_id == media_id
        )
    ).all()
    return {
        "media": image,
        "detections": {str(b.id): {f: getattr(b, f) for f in BOX_FIELDS} for b in boxes},
    }


def restore(
    conn: Connection, media_id: int, before: dict[str, Any] | None, added: int | None
) -> None:
    """Puts back a snapshot (None: the image as it was before anyone reviewed it) and removes
    the box the undone action drew, if it drew one."""
    if added is not None:
        conn.execute(
            delete(detections).where(detections.c.id == added, detections.c.source == "human")
        )
    if before is None:
        blank = dict.fromkeys(BOX_FIELDS)
        blank["reviewer"] = ""
        conn.execute(update(detections).where(detections.c.media_id == media_id).values(**blank))
        conn.execute(
            update(media)
            .where(media.c.id == media_id)
            .values(
                review="",
                verified_outcome=None,
                reviewer="",
                reviewed_at=None,
                **dict.fromkeys(VERIFIED_COLUMNS.values()),
            )
        )
        return
    for box_id, fields in before["detections"].items():
        conn.execute(
            update(detections)
            .where(detections.c.id == int(box_id), detections.c.media_id == media_id)
            .values(**fields)
        )
    image = dict(before["media"])
    if image["reviewed_at"]:
        image["reviewed_at"] = datetime.fromisoformat(image["reviewed_at"])
    conn.execute(update(media).where(media.c.id == media_id).values(**image))
    recount(conn, media_id, reviewed=bool(image["review"]))


def recount(conn: Connection, media_id: int, *, reviewed: bool) -> None:
    """Stores what the reviewer's kept boxes count (None on a file nobody reviewed)."""
    counts: dict[str, int | None] = dict.fromkeys(VERIFIED_COLUMNS)
    if reviewed:
        kept = conn.execute(
            select(detections.c.frame, detections.c.verified_category).where(
                detections.c.media_id == media_id, detections.c.verdict.in_(KEPT_VERDICTS)
            )
        ).all()
        counts.update(most_in_a_frame((b.frame, b.verified_category) for b in kept))
    conn.execute(
        update(media)
        .where(media.c.id == media_id)
        .values(**{VERIFIED_COLUMNS[value]: n for value, n in counts.items()})
    )


def summarise(
    conn: Connection, media_id: int, threshold: float, reviewer: str, now: datetime
) -> None:
    """`review`: accepted (nothing the machine counted was changed), changed, or rejected
    (everything it counted was wrong and nothing was added); `verified_outcome` from the boxes
    kept."""
    boxes = conn.execute(
        select(
            detections.c.verdict,
            detections.c.verified_category,
            detections.c.source,
            detections.c.confidence,
        ).where(detections.c.media_id == media_id)
    ).all()
    kept = {b.verified_category for b in boxes if b.verdict in KEPT_VERDICTS}
    changed = any(
        b.verdict in ("changed", "added")
        or (b.verdict == "rejected" and (b.source == "human" or b.confidence >= threshold))
        for b in boxes
    )
    review = "accepted" if not changed else ("changed" if kept else "rejected")
    conn.execute(
        update(media)
        .where(media.c.id == media_id)
        .values(
            review=review,
            verified_outcome=outcome_of(kept, failed=False),
            reviewer=reviewer,
            reviewed_at=now,
        )
    )
    recount(conn, media_id, reviewed=True)
