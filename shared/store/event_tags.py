"""Tagging a whole event at once (as TrapTagger and Wildlife Insights tag sequences): one action
names the species on every animal box of the event's files nobody reviewed yet, accepts those
files as the AI saw them, and keeps the count the reviewer confirmed for the event (its MaxN is
the proposal: four deer that never share a frame are still four). One batch, undone as one
with `undo_bulk`."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from shared.people.errors import PeopleError
from shared.store.bulk_review import accept_unreviewed
from shared.store.queries import MediaQuery, with_event
from shared.store.review import MAX_TEXT, ReviewAction, ReviewRefused
from shared.store.schema import event_tags
from shared.surveys.custom_fields import checked_values, merged
from shared.surveys.project_settings import fields_of

MAX_COUNT = 9999


def tag_event(
    engine: Engine,
    job_id: str,
    event_id: str,
    *,
    species: str | None,
    count: int | None,
    fields: Any = None,
    reviewer: str,
    now: datetime,
    user_id: int | None = None,
) -> dict[str, Any]:
    """`species` None confirms the count alone; `count` None takes the event's MaxN of
    animals as it stands (the reviewer accepted the proposal)."""
    ReviewAction("accept", reviewer, media_id=0).check()
    if not event_id.strip():
        raise ReviewRefused("tag_event needs event (an event id such as E000012)")
    name = (species or "").strip() or None
    if name is not None and len(name) > MAX_TEXT:
        raise ReviewRefused("species: up to 120 characters")
    if count is not None and not 0 <= count <= MAX_COUNT:
        raise ReviewRefused(f"count is a whole number from 0 to {MAX_COUNT}")
    values = None
    if fields:  # the project's own fields, for the whole event
        try:
            values = merged(None, checked_values(fields_of(engine, job_id), fields))
        except PeopleError as exc:
            raise ReviewRefused(str(exc)) from None
    query, index = with_event(engine, job_id, MediaQuery(event=event_id, order="path"))
    assert index is not None
    event = index.events[event_id.upper()]
    confirmed = event.maxn["animal"] if count is None else count
    reviewer, batch = reviewer.strip(), secrets.token_hex(8)
    with engine.begin() as conn:
        images, _ = accept_unreviewed(
            conn,
            job_id,
            query,
            reviewer,
            now,
            batch,
            user_id=user_id,
            species=name,
        )
        conn.execute(
            insert(event_tags).values(
                job_id=job_id,
                first_path=event.files[0],
                files=len(event.files),
                species=name,
                count=confirmed,
                reviewer=reviewer,
                user_id=user_id,
                created_at=now,
                batch=batch,
                fields=values,
            )
        )
    return {
        "batch": batch,
        "images": images,
        "event": event.id,
        "count": confirmed,
        "species": name,
        "fields": values or {},
    }
