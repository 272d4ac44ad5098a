"""A job's stored files as deployments and events see them: one light row each (no boxes), in
upload order."""

from __future__ import annotations

from sqlalchemy import Engine, select

from shared.events.model import Item
from shared.store.schema import media


def event_items(engine: Engine, job_id: str) -> list[Item]:
    columns = (
        media.c.path,
        media.c.captured,
        media.c.animals,
        media.c.persons,
        media.c.vehicles,
        media.c.max_conf,
        media.c.failure,
        media.c.serial,
        media.c.make,
        media.c.model,
        media.c.latitude,
        media.c.longitude,
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(*columns).where(media.c.job_id == job_id).order_by(media.c.ordinal, media.c.id)
        ).all()
    return [
        Item(
            r.path,
            r.captured,
            {"animal": r.animals, "person": r.persons, "vehicle": r.vehicles},
            r.max_conf,
            r.failure is not None,
            r.serial,
            r.make,
            r.model,
            r.latitude,
            r.longitude,
        )
        for r in rows
    ]
