"""Riding out a database restart (issue 33, item 11): a job's reads and writes are tried again
while a PostgreSQL server does not answer, waits growing from 0.5 s to 10 s, each logged, for
up to `TRAPLINE_DATABASE_PATIENCE_SECONDS` (120 s); then the job fails as before, its upload
kept. A 25 s restart had failed the running job and left an admin to requeue it.

SQLite is a file beside the process: its errors (a full disk, a locked file past its 30 s busy
timeout) are not outages that end by waiting, and fail the job at once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY, MAX_DELAY = 0.5, 10.0


def through_outage(
    engine: Engine,
    action: Callable[[], T],
    *,
    what: str,
    patience: float,
    wake: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`action()`, tried again while the database is away, for up to `patience` seconds.
    `wake`, when set, cuts a wait short (a stop request); the outage's last error is raised
    when patience runs out."""
    deadline = clock() + patience
    delay = FIRST_DELAY
    while True:
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            left = deadline - clock()
            if engine.dialect.name == "sqlite" or left <= 0:
                raise
            pause = min(delay, left)
            why = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            log.warning(
                "database unreachable while %s (%s); trying again in %.1f s (%.0f s of patience "
                "left)",
                what,
                why,
                pause,
                left,
            )
        (wake or threading.Event()).wait(pause)
        delay = min(delay * 2, MAX_DELAY)
