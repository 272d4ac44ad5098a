"""Connecting to the results database: an SQLite file in the data folder by default,
PostgreSQL (psycopg 3) when `TRAPLINE_DATABASE_URL` names one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from shared.settings import Settings

SQLITE_BUSY_MS = 30_000


def database_url(settings: Settings) -> str:
    """The configured URL, with `postgresql://` meaning psycopg 3 (not SQLAlchemy's default
    psycopg2, which Trapline does not install)."""
    url = settings.database_url or f"sqlite:///{(settings.data_dir / 'trapline.db').resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the model server's writes
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at each checkpoint, fast
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine with SQLite's pragmas set on every connection. The SQLite file's folder is
    created if missing; a PostgreSQL database must exist (`createdb`, see the README)."""
    path = sqlite_file(url)
    if path is None:
        # every session in UTC, whatever the server's or the database's default zone: stored
        # instants come back as UTC, and a naive value could never be read in another zone
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=4,
            max_overflow=4,
            connect_args={"options": "-c timezone=UTC"},
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine
