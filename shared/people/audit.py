"""Who did what in a project: uploads, reviews, bulk actions, threshold changes, exports and
membership changes, newest first on the project's page and through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from shared.store.reads import aware
from shared.store.schema import audit_log


@dataclass(frozen=True)
class Entry:
    id: int
    actor: str
    action: str
    detail: dict[str, Any]
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "detail": self.detail,
            "at": self.created_at.isoformat(),
        }


def record(
    target: Engine | Connection,
    project_id: int,
    *,
    actor: str,
    user_id: int | None,
    action: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """One entry; pass the connection of the change it records to write both in one step."""
    statement = insert(audit_log).values(
        project_id=project_id,
        user_id=user_id,
        actor=actor,
        action=action,
        detail=detail,
        created_at=now,
    )
    if isinstance(target, Connection):
        target.execute(statement)
        return
    with target.begin() as conn:
        conn.execute(statement)


def entries(
    engine: Engine, project_id: int, *, limit: int = 100, before: int | None = None
) -> list[Entry]:
    query = select(audit_log).where(audit_log.c.project_id == project_id)
    if before is not None:
        query = query.where(audit_log.c.id < before)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).all()
    return [
        Entry(r.id, r.actor, r.action, dict(r.detail), aware(r.created_at) or r.created_at)
        for r in rows
    ]
