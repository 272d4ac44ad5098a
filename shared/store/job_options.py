"""A finished job's options changed after the run (coordinates and the cameras' UTC offset given
on the job page), read and written in one transaction so two saves cannot lose each other's
coordinates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from shared.camtrap_options import Place, places_from_json
from shared.store.schema import jobs


def add_places(
    engine: Engine, job_id: str, places: dict[str, Place], utc_offset: str | None = None
) -> dict[str, Any] | None:
    """Merges `places` into the job's given coordinates (a name given again is replaced) and
    sets the UTC offset when one is given. The job's options after the change; None when the
    store has no such job."""
    with engine.begin() as conn:
        row = conn.execute(
            select(jobs.c.options).where(jobs.c.id == job_id).with_for_update()
        ).first()
        if row is None:
            return None
        options = dict(row.options or {})
        merged = {**places_from_json(options.get("places")), **places}
        options["places"] = {name: [lat, lon] for name, (lat, lon) in merged.items()}
        if utc_offset is not None:
            options["utc_offset"] = utc_offset
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(options=options))
    return options
