"""Counters every model server adds to in Redis as its jobs end, by model, for the site's
`/metrics`: files processed and unreadable, jobs finished and failed. Kept in one hash, so the
numbers are the fleet's whatever server or web worker is asked."""

from __future__ import annotations

from typing import cast

from redis import Redis

from shared.job_record import as_text

STATS_KEY = "trapline:stats"
COUNTERS = ("images_processed", "images_failed", "jobs_finished", "jobs_failed")


def count(redis: Redis, model: str, **added: int) -> None:
    """Adds to the named counters (`COUNTERS`) of `model`."""
    pipe = redis.pipeline(transaction=False)
    for name, n in added.items():
        assert name in COUNTERS, name
        if n:
            pipe.hincrby(STATS_KEY, f"{name}|{model}", n)
    pipe.execute()


def counts(redis: Redis) -> dict[tuple[str, str], int]:
    """{(counter, model): value}."""
    raw = cast(dict[bytes, bytes], redis.hgetall(STATS_KEY))
    found: dict[tuple[str, str], int] = {}
    for key, value in raw.items():
        name, _, model = as_text(key).partition("|")
        if name in COUNTERS:
            found[(name, model)] = int(value)
    return found
