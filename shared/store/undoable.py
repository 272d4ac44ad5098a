"""A reviewer's own recent changes that can still be undone, oldest first, so the page's undo
(Z) survives a reload: single actions by review id, a bulk accept or an event tag by its batch
(once, however many files it touched)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from shared.store.reads import aware
from shared.store.schema import event_tags, reviews

RECENT = 50


def undoable(
    engine: Engine,
    jobs: str | Sequence[str],
    *,
    reviewer: str,
    user_id: int | None,
    limit: int = RECENT,
) -> list[dict[str, Any]]:
    """The last `limit` live changes of the account `user_id` (or, on an open site, of the
    name `reviewer`), oldest first: {"review_id": n} or {"batch": b}. Over several jobs (a
    project's cards) a batch is named with its job, `job:batch`, as a project's undo takes it."""
    several = not isinstance(jobs, str)
    scope = list(jobs) if several else [str(jobs)]

    def mine(table: Any) -> Any:
        if user_id is not None:
            return table.c.user_id == user_id
        return table.c.reviewer == reviewer.strip()

    with engine.connect() as conn:
        singles = conn.execute(
            select(reviews.c.id, reviews.c.job_id, reviews.c.batch, reviews.c.created_at)
            .where(
                reviews.c.job_id.in_(scope),
                reviews.c.undone_at.is_(None),
                reviews.c.action != "undo",
                mine(reviews),
            )
            .order_by(reviews.c.id.desc())
            .limit(limit * 20)  # a bulk accept is one row per file
        ).all()
        tags = conn.execute(
            select(event_tags.c.job_id, event_tags.c.batch, event_tags.c.created_at)
            .where(
                event_tags.c.job_id.in_(scope), event_tags.c.undone_at.is_(None), mine(event_tags)
            )
            .order_by(event_tags.c.id.desc())
            .limit(limit)
        ).all()

    def batch(job_id: str, name: str) -> str:
        return f"{job_id}:{name}" if several else name

    found: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
    for r in singles:
        key = f"b:{r.batch}" if r.batch else f"r:{r.id}"
        entry = {"batch": batch(r.job_id, r.batch)} if r.batch else {"review_id": r.id}
        found.setdefault(key, (_when(r.created_at), r.id, entry))
    for t in tags:
        entry = {"batch": batch(t.job_id, t.batch)}
        found.setdefault(f"b:{t.batch}", (_when(t.created_at), 0, entry))
    newest = sorted(found.values(), key=lambda f: (f[0], f[1]), reverse=True)[:limit]
    return [entry for _, _, entry in reversed(newest)]


def _when(moment: datetime) -> datetime:
    found = aware(moment)
    assert found is not None
    return found
