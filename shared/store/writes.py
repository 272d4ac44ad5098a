"""What the model server writes: a job's row, its media in batched transactions, its end; and
what the cleanup removes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shared.store.records import COUNT_COLUMNS, MediaRecord
from shared.store.schema import (
    detections,
    ended_jobs,
    event_tags,
    jobs,
    media,
    project_jobs,
    reviews,
)


class DuplicateMedia(Exception):
    """A batch named a file the store already holds for the job: another run wrote it."""


@dataclass
class JobRow:
    id: str
    created_at: datetime
    model_name: str
    threshold: float
    render_threshold: float
    min_confidence: float
    model_meta: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    images: int = 0
    failures: int = 0
    counts: dict[str, Any] = field(default_factory=dict)


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time is taken as this machine's local time."""
    return moment.astimezone(UTC)


def start_job(engine: Engine, job: JobRow) -> None:
    """Creates the job's row, or on a resumed run updates what this run decides (model,
    thresholds, options) and keeps when it was created."""
    values = {
        "model_name": job.model_name,
        "model_meta": job.model_meta,
        "threshold": job.threshold,
        "render_threshold": job.render_threshold,
        "min_confidence": job.min_confidence,
        "options": job.options,
        "skipped": job.skipped,
        "finished_at": None,
        "started_at": utc(job.started_at) if job.started_at else None,
    }
    with engine.begin() as conn:
        found = conn.execute(update(jobs).where(jobs.c.id == job.id).values(**values)).rowcount
        if not found:
            conn.execute(
                insert(jobs).values(
                    id=job.id,
                    created_at=utc(job.created_at),
                    images=0,
                    failures=0,
                    counts={},
                    **values,
                )
            )


def _media_row(job_id: str, record: MediaRecord, threshold: float) -> dict[str, Any]:
    meta = record.metadata
    found = record.counts(threshold)
    counts = {column: found[value] for value, column in COUNT_COLUMNS.items()}
    return {
        "job_id": job_id,
        "ordinal": record.ordinal,
        "path": record.file,
        "folder": record.folder,
        "kind": record.kind,
        "outcome": record.outcome(threshold),
        **counts,
        "max_conf": record.max_conf,
        "captured": record.captured,
        "captured_from": meta.get("captured_from") or "",
        **{k: meta.get(k) or "" for k in ("make", "model", "serial", "altitude_ref")},
        "latitude": meta.get("latitude"),
        "longitude": meta.get("longitude"),
        "altitude": meta.get("altitude_m"),
        "width": record.width,
        "height": record.height,
        "failure": record.failure,
        "notes": meta.get("exif_notes") or "",
        "chroma": meta.get("chroma"),
        "brightness": meta.get("brightness"),
        "layout": meta.get("layout"),
        "annotated": record.annotated,
        "thumbnail": record.thumbnail,
        "view": record.view,
        "doubt": record.doubt(threshold),
        "video": record.video,
    }


def add_media(
    engine: Engine, job_id: str, records: Sequence[MediaRecord], threshold: float, model: str
) -> None:
    """Stores a batch of media and their detections in one transaction: all of them or none,
    so a crash mid-batch leaves nothing half-written. Raises DuplicateMedia when a file is
    already stored for the job (the unique (job, path) constraint)."""
    if not records:
        return
    rows = [_media_row(job_id, r, threshold) for r in records]
    if all(r["chroma"] is None for r in rows):
        # nothing measured (results imported from a JSON file): the columns are left out, so
        # the same insert also fits a store not yet migrated to 0015 (its upgrade tests)
        for r in rows:
            del r["chroma"], r["brightness"], r["layout"]
    try:
        with engine.begin() as conn:
            project = conn.execute(
                select(project_jobs.c.project_id).where(project_jobs.c.job_id == job_id)
            ).scalar()
            for row in rows:
                row["project_id"] = project
            ids = (
                conn.execute(
                    insert(media).returning(media.c.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            dets = [
                {
                    "media_id": media_id,
                    "category": d["category"],
                    "confidence": d["conf"],
                    "x": d["bbox"][0],
                    "y": d["bbox"][1],
                    "w": d["bbox"][2],
                    "h": d["bbox"][3],
                    "frame": d.get("frame"),
                    "source": "machine",
                    "model": model,
                }
                for media_id, record in zip(ids, records, strict=True)
                for d in record.detections
            ]
            if dets:
                conn.execute(insert(detections), dets)
    except IntegrityError as exc:
        raise DuplicateMedia(f"job {job_id}: a file in this batch is already stored") from exc


def done_paths(engine: Engine, job_id: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(media.c.path).where(media.c.job_id == job_id)).scalars())


def finish_job(
    engine: Engine,
    job_id: str,
    finished: datetime,
    *,
    images: int,
    failures: int,
    counts: dict[str, Any],
) -> None:
    with engine.begin() as conn:
        stored = {**counts, "by_outcome": by_outcome(conn, job_id)}
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(finished_at=utc(finished), images=images, failures=failures, counts=stored)
        )


def by_outcome(conn: Connection, job_id: str) -> dict[str, list[int]]:
    """outcome -> [images, animal, person, vehicle boxes] of the job's stored media, kept in
    the job's `counts` when it finishes and when its threshold changes (the only times they
    change: a review never touches them), so a project's summary adds up a few rows per card
    instead of grouping every file."""
    rows = conn.execute(
        select(*outcome_sums()).where(media.c.job_id == job_id).group_by(media.c.outcome)
    ).all()
    return {outcome: [int(v or 0) for v in values] for outcome, *values in rows}


def outcome_sums() -> tuple[Any, ...]:
    """Grouped by outcome: the images, and the boxes of each label at the job's threshold."""
    return (
        media.c.outcome,
        func.count(),
        func.sum(media.c.animals),
        func.sum(media.c.persons),
        func.sum(media.c.vehicles),
    )


def delete_job(engine: Engine, job_id: str) -> bool:
    """Removes a job and everything stored for it in one transaction; False if there was none.
    Each table is emptied explicitly rather than by cascade, so it does not matter whether the
    database enforces foreign keys."""
    in_job = select(media.c.id).where(media.c.job_id == job_id).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(delete(reviews).where(reviews.c.job_id == job_id))
        conn.execute(delete(event_tags).where(event_tags.c.job_id == job_id))
        conn.execute(delete(detections).where(detections.c.media_id.in_(in_job)))
        conn.execute(delete(media).where(media.c.job_id == job_id))
        return bool(conn.execute(delete(jobs).where(jobs.c.id == job_id)).rowcount)


def record_ended(engine: Engine, job_id: str, why: str, at: datetime) -> None:
    """Remembers that the job's results are gone and why (`expired`, `cancelled`); the first
    word stays."""
    with engine.begin() as conn:
        if conn.execute(select(ended_jobs.c.id).where(ended_jobs.c.id == job_id)).first() is None:
            conn.execute(insert(ended_jobs).values(id=job_id, why=why, ended_at=utc(at)))
