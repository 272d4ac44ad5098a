"""Brings a database to the newest schema with Alembic. Both processes call it at start-up; a
lock (PostgreSQL's advisory lock, a file lock beside an SQLite file) makes the second one wait
and then find nothing to do."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from shared.store.engine import sqlite_file

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = 0x7472_6170  # "trap": the one lock key Trapline takes in PostgreSQL


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.with_name(path.name + ".migrate-lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine: Engine) -> str | None:
    """Applies what is missing; returns the revision the database is at afterwards."""
    path = sqlite_file(str(engine.url))
    if path is not None:
        with _file_lock(path), engine.connect() as conn:
            return _upgrade(conn)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        conn.commit()
        try:
            return _upgrade(conn)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()


def _upgrade(conn: Connection) -> str | None:
    before = MigrationContext.configure(conn).get_current_revision()
    if before != head_revision():
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
        log.info("results database migrated from %s to %s", before or "empty", head_revision())
    return MigrationContext.configure(conn).get_current_revision()
