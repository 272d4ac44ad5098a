"""What the cameras saw, for the results dashboard: detections by hour of day and by day (the
camera's own clock), and each folder's camera position with its counts. Counts are boxes at the
job's threshold (the `animals`/`persons`/`vehicles` columns), so they follow a new threshold
once it is applied, except on a reviewed file, which counts what its reviewer kept; `reviewed`
says how many of a row's images were."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, extract, func, select

from shared.categories import CATEGORY_LABELS
from shared.store.final_counts import final_sums
from shared.store.schema import media

DAILY_UP_TO, WEEKLY_UP_TO = 180, 3 * 366  # survey spans (days) beyond which bars get wider


def _of(jobs: str | Sequence[str]) -> ColumnElement[bool]:
    """One job's media, or several jobs' (a project's cards)."""
    if isinstance(jobs, str):
        return media.c.job_id == jobs
    return media.c.job_id.in_(list(jobs))


def _counts(row: Any) -> dict[str, int]:
    return {
        "images": int(row.images),
        **{label: int(row[f"n{value}"] or 0) for value, label in CATEGORY_LABELS.items()},
        "reviewed": int(row.reviewed or 0),
    }


def _sums() -> tuple[Any, ...]:
    return (*final_sums(), func.count(media.c.verified_outcome).label("reviewed"))


ZERO = {"images": 0, "animal": 0, "person": 0, "vehicle": 0, "reviewed": 0}


def by_hour(engine: Engine, jobs: str | Sequence[str]) -> list[dict[str, int]]:
    """24 rows, hour 0 to 23, of images and detections with a capture time."""
    hour = extract("hour", media.c.captured)
    with engine.connect() as conn:
        rows = conn.execute(
            select(hour.label("hour"), *_sums())
            .where(_of(jobs), media.c.captured.is_not(None))
            .group_by(hour)
        ).all()
    found = {int(r.hour): _counts(r._mapping) for r in rows}
    return [{"hour": h, **found.get(h, ZERO)} for h in range(24)]


def _bin_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next(start: date, unit: str) -> date:
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7 if unit == "week" else 1)


def by_day(engine: Engine, jobs: str | Sequence[str]) -> dict[str, Any]:
    """Every day from the first capture to the last, days without a photo included as zeros;
    over a longer survey every week (starting on Monday) or every month, so a chart keeps a
    readable number of bars."""
    day = func.date(media.c.captured)
    with engine.connect() as conn:
        rows = conn.execute(
            select(day.label("day"), *_sums())
            .where(_of(jobs), media.c.captured.is_not(None))
            .group_by(day)
        ).all()
    counts = {date.fromisoformat(str(r.day)[:10]): _counts(r._mapping) for r in rows}
    if not counts:
        return {"unit": "day", "rows": []}
    first, last = min(counts), max(counts)
    span = (last - first).days
    unit = "day" if span <= DAILY_UP_TO else "week" if span <= WEEKLY_UP_TO else "month"
    bins: dict[date, dict[str, int]] = {}
    at = _bin_start(first, unit)
    while at <= last:
        bins[at] = dict(ZERO)
        at = _next(at, unit)
    for when, values in counts.items():
        into = bins[_bin_start(when, unit)]
        for name, n in values.items():
            into[name] += n
    return {"unit": unit, "rows": [{"day": d.isoformat(), **v} for d, v in bins.items()]}


def cameras(engine: Engine, job_id: str) -> list[dict[str, Any]]:
    """One row per folder: its counts, first and last capture, and its position (the median of
    its photos' GPS fixes; None when none has one)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                media.c.folder,
                *_sums(),
                func.min(media.c.captured).label("first"),
                func.max(media.c.captured).label("last"),
            )
            .where(media.c.job_id == job_id)
            .group_by(media.c.folder)
            .order_by(media.c.folder)
        ).all()
        fixes = conn.execute(
            select(media.c.folder, media.c.latitude, media.c.longitude).where(
                media.c.job_id == job_id,
                media.c.latitude.is_not(None),
                media.c.longitude.is_not(None),
            )
        ).all()
    where: dict[str, tuple[list[float], list[float]]] = {}
    for folder, lat, lon in fixes:
        lats, lons = where.setdefault(folder, ([], []))
        lats.append(lat)
        lons.append(lon)
    out = []
    for r in rows:
        lats, lons = where.get(r.folder, ([], []))
        out.append(
            {
                "folder": r.folder,
                **_counts(r._mapping),
                "first": r.first.isoformat() if r.first else None,
                "last": r.last.isoformat() if r.last else None,
                "with_gps": len(lats),
                # rounded as EXIF's fixes are (7 decimals, about 1 cm): no float noise
                "latitude": round(statistics.median(lats), 7) if lats else None,
                "longitude": round(statistics.median(lons), 7) if lons else None,
            }
        )
    return out
