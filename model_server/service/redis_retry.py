"""Riding out a Redis outage: bookkeeping that must happen is retried with backoff, never
dropped and never allowed to take the model server down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY, MAX_DELAY = 0.5, 30.0


def retry_until_done(
    action: Callable[[], T], *, what: str, wake: threading.Event | None = None
) -> T:
    """Runs `action` until Redis answers it. Waits grow from 0.5 s to 30 s; `wake`, when set,
    cuts a wait short (nothing else ends the loop: the write matters more than the wait)."""
    delay = FIRST_DELAY
    while True:
        try:
            return action()
        except RedisError as exc:
            log.warning("Redis unreachable while %s (%s); trying again in %.1f s", what, exc, delay)
        (wake or threading.Event()).wait(delay)
        delay = min(delay * 2, MAX_DELAY)
