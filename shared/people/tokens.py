"""API tokens: what a script sends as `Authorization: Bearer <token>`. Shown once when made;
only its SHA-256 is stored (a token is 256 random bits, so a fast hash is as safe as a slow one
and a lookup stays one index probe). Each has a name, a last-used time and can be revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from shared.people.errors import PeopleError
from shared.people.users import COLUMNS, User, _user
from shared.store.reads import aware
from shared.store.schema import api_tokens, users

PREFIX = "trp_"
# last-used is written at most this often per token: a polling script is not a write per poll
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked": self.revoked_at is not None,
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, user_id: int, name: str, *, now: datetime) -> tuple[str, Token]:
    """A new token for the user: (the token itself, shown once, and its record)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise PeopleError("A token's name is 1-100 characters (say what script uses it).")
    token = PREFIX + secrets.token_urlsafe(32)
    values = {
        "user_id": user_id,
        "name": name,
        "digest": digest(token),
        "prefix": token[: len(PREFIX) + 6],
        "created_at": now,
    }
    with engine.begin() as conn:
        new_id = conn.execute(insert(api_tokens).values(**values).returning(api_tokens.c.id))
        token_id = int(new_id.scalar() or 0)
    return token, Token(token_id, name, str(values["prefix"]), now, None, None)


def user_for_token(engine: Engine, token: str, *, now: datetime) -> User | None:
    """The active user a live token belongs to, noting when it was used; None otherwise."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*COLUMNS, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.digest == digest(token), api_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None or not row.active:
        return None
    last = row.last_used_at
    if last is None or now - (aware(last) or now) >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used_at=now)
            )
    return _user(row)


def tokens_of(engine: Engine, user_id: int) -> list[Token]:
    query = (
        select(
            api_tokens.c.id,
            api_tokens.c.name,
            api_tokens.c.prefix,
            api_tokens.c.created_at,
            api_tokens.c.last_used_at,
            api_tokens.c.revoked_at,
        )
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Token(r[0], r[1], r[2], *(aware(m) for m in r[3:])) for r in rows]  # type: ignore[arg-type]


def revoke_token(engine: Engine, user_id: int, token_id: int, *, now: datetime) -> bool:
    """Revokes one of the user's tokens; False when they have no such live token."""
    with engine.begin() as conn:
        done = conn.execute(
            update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.user_id == user_id,
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    return done.rowcount == 1
