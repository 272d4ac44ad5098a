"""Accounts: a name (what a person logs in with and what their reviews are signed with), an
email, an argon2id password hash, and whether they administer the whole site."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.people import passwords
from shared.people.errors import PeopleError
from shared.store.reads import aware
from shared.store.schema import users

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str
    site_admin: bool
    active: bool
    # changes with the password: a session made before a password change stops working
    session_stamp: str = "0"

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "site_admin": self.site_admin}


def stamp(changed: datetime | None) -> str:
    moment = aware(changed)
    return moment.strftime("%Y%m%d%H%M%S%f") if moment else "0"


def _user(row: Any) -> User:
    return User(
        row.id,
        row.name,
        row.email,
        bool(row.site_admin),
        bool(row.active),
        stamp(row.password_changed_at),
    )


COLUMNS = (
    users.c.id,
    users.c.name,
    users.c.email,
    users.c.site_admin,
    users.c.active,
    users.c.password_changed_at,
)


def check_name(name: str) -> str:
    name = name.strip()
    if not USER_NAME.match(name):
        raise PeopleError(
            f"{name!r} cannot be a user name: 1-100 letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def check_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise PeopleError(f"{email!r} is not an email address.")
    return email


def create_user(
    engine: Engine,
    name: str,
    email: str,
    password: str | None,
    *,
    now: datetime,
    site_admin: bool = False,
) -> User:
    """A new account. With `password` None it cannot log in until a reset link is used."""
    name, email = check_name(name), check_email(email)
    values = {
        "name": name,
        "email": email,
        "password_hash": passwords.hash_password(password) if password is not None else "",
        "site_admin": site_admin,
        "active": True,
        "created_at": now,
        "password_changed_at": now if password is not None else None,
    }
    try:
        with engine.begin() as conn:
            new_id = conn.execute(insert(users).values(**values).returning(users.c.id)).scalar()
    except IntegrityError:
        raise PeopleError(f"There is already a user called {name!r}.") from None
    changed = now if password is not None else None
    return User(int(new_id or 0), name, email, site_admin, True, stamp(changed))


def user_by_id(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(*COLUMNS).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def user_by_name(engine: Engine, name: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(*COLUMNS).where(users.c.name == name.strip())).first()
    return _user(row) if row else None


def all_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(*COLUMNS).order_by(users.c.name))]


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The active user with this name and password, or None. The hash is checked even for an
    unknown name, so the time taken does not tell which names exist."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*COLUMNS, users.c.password_hash).where(users.c.name == name.strip())
        ).first()
    stored = row.password_hash if row is not None and row.password_hash else None
    matches = passwords.verify(stored or passwords.dummy_hash(), password)
    if row is None or stored is None or not matches or not row.active:
        return None
    if passwords.needs_rehash(stored):
        with engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(password_hash=passwords.hash_password(password))
            )
    return _user(row)


def set_password(engine: Engine, user_id: int, password: str, *, now: datetime) -> None:
    hashed = passwords.hash_password(password)
    with engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=hashed, password_changed_at=now)
        )


def set_active(engine: Engine, user_id: int, active: bool) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(active=active))
