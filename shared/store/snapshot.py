"""One consistent view of the store for a reader that takes many queries: an export pages
through 200,000 images, reads events and the survey, and every one of those reads must see the
store as it was at one instant, not half before and half after a reviewer's bulk accept.

`snapshot(engine)` holds one connection in one read transaction: REPEATABLE READ, READ ONLY on
PostgreSQL (its snapshot is taken by the first query); on SQLite an explicit BEGIN (pysqlite
begins no transaction for a SELECT, so each query would otherwise see the latest commit; in WAL
mode a read transaction sees the database as at its first read and never blocks a writer).
Readers take a `Reader`: an Engine, or the snapshot, whose every `connect()` hands back that
one connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol

from sqlalchemy import Connection, Engine


class Reader(Protocol):
    """What a reading function needs: connections to read through."""

    def connect(self) -> AbstractContextManager[Connection]: ...


class Snapshot:
    """The store as one read transaction saw it; `connect()` gives that transaction's
    connection (and leaves it open on exit: the snapshot ends with its `with` block)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def connect(self) -> AbstractContextManager[Connection]:
        return nullcontext(self._conn)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Snapshot]:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            conn.exec_driver_sql("BEGIN")
        try:
            yield Snapshot(conn)
        finally:
            conn.rollback()
