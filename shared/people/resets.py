"""One-time password links: a site admin issues one (the admin page, or `trapline-admin
reset-password` on a site that sends no email), the person opens it and sets a password. A link
works once, for three days; only its SHA-256 is stored."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from shared.people import passwords
from shared.people.errors import PeopleError
from shared.people.tokens import digest
from shared.people.users import User, set_password, user_by_id
from shared.store.reads import aware
from shared.store.schema import password_resets

LIFETIME = timedelta(days=3)
USED = "This password link has been used, has expired or was never issued. Ask a site admin for "


def issue_reset(engine: Engine, user_id: int, *, now: datetime) -> str:
    """A new one-time code for the user; earlier unused ones stop working."""
    code = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            update(password_resets)
            .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
            .values(used_at=now)
        )
        conn.execute(
            insert(password_resets).values(
                user_id=user_id, digest=digest(code), created_at=now, expires_at=now + LIFETIME
            )
        )
    return code


def reset_user(engine: Engine, code: str) -> User | None:
    """Whose live code this is (to greet them on the form), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(password_resets.c.user_id, password_resets.c.expires_at).where(
                password_resets.c.digest == digest(code), password_resets.c.used_at.is_(None)
            )
        ).first()
    return user_by_id(engine, row.user_id) if row else None


def use_reset(engine: Engine, code: str, password: str, *, now: datetime) -> User:
    """Sets the password and spends the code, in that order only if the code is live."""
    passwords.check_strength(password)
    with engine.begin() as conn:
        row = conn.execute(
            select(password_resets.c.id, password_resets.c.user_id, password_resets.c.expires_at)
            .where(password_resets.c.digest == digest(code), password_resets.c.used_at.is_(None))
            .with_for_update()
        ).first()
        if row is None or (aware(row.expires_at) or now) <= now:
            raise PeopleError(USED + "a new one.")
        spent = conn.execute(
            update(password_resets)
            .where(password_resets.c.id == row.id, password_resets.c.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise PeopleError(USED + "a new one.")
    set_password(engine, row.user_id, password, now=now)
    user = user_by_id(engine, row.user_id)
    if user is None:
        raise PeopleError("This account no longer exists.")
    return user
