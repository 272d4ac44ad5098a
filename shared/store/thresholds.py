"""Another threshold for a finished job: the counts it would give (the results page's slider
asks while it moves) and making it the job's threshold (outcomes, counts and doubt of every
image recomputed from the stored confidences, in a few set-based statements).

Boxes are counted per frame and a file counts its most crowded frame: a photo is one frame
(its boxes have no frame number), a video counts the most boxes seen in any one checked frame,
as the model server counted them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, case, func, literal, select, update

from shared.categories import CATEGORY_LABELS
from shared.store.final_counts import counted_machine_box
from shared.store.records import COUNT_COLUMNS, OUTCOMES
from shared.store.schema import detections, jobs, media
from shared.store.writes import by_outcome


def _per_image(job_id: str, threshold: float) -> Any:
    """One row per image with a box at or above `threshold`: which categories it has and how
    many boxes of each (in its most crowded frame)."""
    boxes = [
        func.sum(case((detections.c.category == value, 1), else_=0)).label(f"n{value}")
        for value in CATEGORY_LABELS
    ]
    per_frame = (
        select(detections.c.media_id, *boxes)
        .join(media)
        .where(
            media.c.job_id == job_id,
            counted_machine_box(),
            detections.c.confidence >= threshold,
            media.c.failure.is_(None),
        )
        .group_by(detections.c.media_id, detections.c.frame)
        .subquery()
    )
    has = [
        func.max(case((per_frame.c[f"n{value}"] > 0, 1), else_=0)).label(f"has{value}")
        for value in CATEGORY_LABELS
    ]
    most = [func.max(per_frame.c[f"n{value}"]).label(f"n{value}") for value in CATEGORY_LABELS]
    return select(per_frame.c.media_id, *has, *most).group_by(per_frame.c.media_id).subquery()


def counts_at(engine: Engine, job_id: str, threshold: float) -> dict[str, Any]:
    """{"outcomes": {label: images}, "detections": {label: boxes}} at `threshold` (an image
    with an animal and a person counts under both, as in the summary)."""
    per = _per_image(job_id, threshold)
    flags = [per.c[f"has{v}"] for v in CATEGORY_LABELS]
    with engine.connect() as conn:
        groups = conn.execute(
            select(
                *flags, func.count(), *(func.sum(per.c[f"n{v}"]) for v in CATEGORY_LABELS)
            ).group_by(*flags)
        ).all()
        totals = conn.execute(
            select(func.count(), func.count(media.c.failure)).where(media.c.job_id == job_id)
        ).one()
    outcomes = dict.fromkeys(OUTCOMES, 0)
    boxes = dict.fromkeys(CATEGORY_LABELS.values(), 0)
    found = 0
    for row in groups:
        labels = list(CATEGORY_LABELS.values())
        found += row[3]
        for i, label in enumerate(labels):
            outcomes[label] += row[3] if row[i] else 0
            boxes[label] += int(row[4 + i] or 0)
    outcomes["error"] = totals[1]
    outcomes["empty"] = totals[0] - totals[1] - found
    return {"threshold": threshold, "images": totals[0], "outcomes": outcomes, "detections": boxes}


def _outcome_expression() -> Any:
    """The outcome text from the stored per-category counts (`animal+person`, `empty`...)."""
    columns = [media.c[column] for column in COUNT_COLUMNS.values()]
    labels = list(CATEGORY_LABELS.values())
    whens = []
    for mask in range(7, 0, -1):
        chosen = [i for i in range(3) if mask >> i & 1]
        condition = and_(
            *((columns[i] > 0) if i in chosen else (columns[i] == 0) for i in range(3))
        )
        whens.append((condition, literal("+".join(labels[i] for i in chosen))))
    return case((media.c.failure.is_not(None), literal("error")), *whens, else_=literal("empty"))


def apply_threshold(engine: Engine, job_id: str, threshold: float) -> None:
    """Makes `threshold` the job's: what the site filters and the next export report by."""

    def count(value: str) -> Any:
        most_in_a_frame = (
            select(func.count())
            .where(
                detections.c.media_id == media.c.id,
                counted_machine_box(),
                detections.c.category == value,
                detections.c.confidence >= threshold,
            )
            .group_by(detections.c.frame)
            .order_by(func.count().desc())
            .limit(1)
            .scalar_subquery()
        )
        return func.coalesce(most_in_a_frame, 0)

    nearest = (
        select(func.min(func.abs(detections.c.confidence - threshold)))
        .where(detections.c.media_id == media.c.id, counted_machine_box())
        .scalar_subquery()
    )
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(threshold=threshold))
        conn.execute(
            update(media)
            .where(media.c.job_id == job_id)
            .values(
                **{column: count(value) for value, column in COUNT_COLUMNS.items()},
                doubt=case(
                    (media.c.failure.is_(None), func.coalesce(nearest, threshold)), else_=None
                ),
            )
        )
        conn.execute(
            update(media).where(media.c.job_id == job_id).values(outcome=_outcome_expression())
        )
        row = conn.execute(
            select(jobs.c.counts, jobs.c.finished_at).where(jobs.c.id == job_id)
        ).first()
        if row is not None and row.finished_at is not None:  # what a project's summary adds up
            counts = {**(row.counts or {}), "by_outcome": by_outcome(conn, job_id)}
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(counts=counts))
