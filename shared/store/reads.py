"""Reading a job back: its row, and its media in upload order, a page at a time, so writing
the outputs of a 200,000-photo job holds one page in memory, never the job."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, select, tuple_

from shared.store.records import MediaRecord, map_link
from shared.store.schema import detections, ended_jobs, jobs, media
from shared.store.snapshot import Reader
from shared.store.writes import JobRow

PAGE = 500


def aware(moment: datetime | None) -> datetime | None:
    """A stored instant as aware UTC: SQLite hands stored UTC times back without their zone,
    PostgreSQL in its session's zone (set to UTC by the engine, but a URL may override it)."""
    if moment is None:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def job_row(engine: Reader, job_id: str) -> JobRow | None:
    with engine.connect() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        return None
    values = dict(row)
    for key in ("created_at", "started_at", "finished_at"):
        values[key] = aware(values[key])
    return JobRow(**values)


def ended_before(engine: Engine, cutoff: datetime) -> list[str]:
    """Ids of jobs that finished (or, never finished, were created) before `cutoff`."""
    ended = func.coalesce(jobs.c.finished_at, jobs.c.created_at)
    with engine.connect() as conn:
        return list(conn.execute(select(jobs.c.id).where(ended < cutoff)).scalars())


def _record(row: Row[Any], dets: list[dict[str, Any]]) -> MediaRecord:
    meta = {
        "captured": row.captured.isoformat() if row.captured else None,
        "captured_from": row.captured_from,
        "make": row.make,
        "model": row.model,
        "serial": row.serial,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "altitude_m": row.altitude,
        "altitude_ref": row.altitude_ref,
        "map_link": map_link(row.latitude, row.longitude),
        "exif_notes": row.notes,
    }
    return MediaRecord(
        file=row.path,
        detections=dets,
        failure=row.failure,
        width=row.width,
        height=row.height,
        metadata=meta,
        annotated=row.annotated,
        thumbnail=row.thumbnail,
        ordinal=row.ordinal,
        kind=row.kind,
        view=row.view,
        review=row.review,
        reviewer=row.reviewer,
        verified_outcome=row.verified_outcome,
        video=row.video,
    )


def detections_of(engine_or_conn: Any, media_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """{media id: [detection, ...]} in the order the detector gave them."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not media_ids:
        return found
    query = (
        select(detections)
        .where(detections.c.media_id.in_(media_ids))
        .order_by(detections.c.media_id, detections.c.id)
    )
    for d in engine_or_conn.execute(query):
        entry = {
            "category": d.category,
            "conf": d.confidence,
            "bbox": [d.x, d.y, d.w, d.h],
            "id": d.id,
            "source": d.source,
            "verdict": d.verdict,
            "verified_category": d.verified_category,
            "species": d.species,
            "reviewer": d.reviewer,
        }
        if d.suggested_species is not None:
            entry.update(
                suggested_species=d.suggested_species,
                species_distance=d.species_distance,
                species_runner_up=d.species_runner_up or "",
                species_margin=d.species_margin,
            )
        if d.frame is not None:
            entry["frame"] = d.frame
        if d.fields:
            entry["fields"] = d.fields
        if d.suppressed_by is not None:
            entry["suppressed_by"] = d.suppressed_by
        found[d.media_id].append(entry)
    return found


def iter_media(
    engine: Reader, job_id: str, page: int = PAGE, *, reviewed_only: bool = False
) -> Iterator[MediaRecord]:
    """Every media record of the job (or every one a person reviewed) in upload order (keyset
    paging: no OFFSET, each page is one index range however deep into the job)."""
    after = (-1, -1)
    wanted = [media.c.job_id == job_id]
    if reviewed_only:
        wanted.append(media.c.review != "")
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(media)
                .where(*wanted, tuple_(media.c.ordinal, media.c.id) > after)
                .order_by(media.c.ordinal, media.c.id)
                .limit(page)
            ).all()
            dets = detections_of(conn, [r.id for r in rows])
        if not rows:
            return
        for row in rows:
            yield _record(row, dets.get(row.id, []))
        after = (rows[-1].ordinal, rows[-1].id)


def ended_as(engine: Engine, job_id: str) -> str | None:
    """Why the job's results are gone (`expired`, `cancelled`), or None."""
    with engine.connect() as conn:
        return conn.execute(select(ended_jobs.c.why).where(ended_jobs.c.id == job_id)).scalar()
