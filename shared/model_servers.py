"""The live model servers: each one's heartbeat scores it in a sorted set by the time its
liveness lapses (as rq's worker registry does), beside a hash of the model it runs, so /healthz,
the admin page and every waiting job's page read them with one range query, never a scan."""

from __future__ import annotations

import time
from typing import cast

from redis import Redis

from shared.job_record import as_text
from shared.model_facts import ModelFacts

SERVERS_KEY = "trapline:model-servers"  # server name -> time its liveness lapses
MODELS_KEY = "trapline:model-server-models"  # server name -> the detector it runs
FACTS_KEY = "trapline:model-server-facts"  # server name -> its model's facts (JSON)
LIVENESS_SECONDS = 30


def beat(
    redis: Redis,
    name: str,
    model: str,
    now: float | None = None,
    *,
    facts: ModelFacts | None = None,
) -> None:
    """Says this server is alive for the next LIVENESS_SECONDS with its model (and what that
    model can see), and forgets servers that lapsed (killed without a goodbye) so the set stays
    as small as the fleet."""
    at = time.time() if now is None else now
    pipe = redis.pipeline()
    pipe.zadd(SERVERS_KEY, {name: at + LIVENESS_SECONDS})
    pipe.hset(MODELS_KEY, name, model)
    pipe.hset(FACTS_KEY, name, (facts or ModelFacts(model)).dumps())
    pipe.zrangebyscore(SERVERS_KEY, "-inf", at)
    lapsed = pipe.execute()[-1]
    if lapsed:
        pipe = redis.pipeline()
        pipe.zrem(SERVERS_KEY, *lapsed)
        pipe.hdel(MODELS_KEY, *lapsed)
        pipe.hdel(FACTS_KEY, *lapsed)
        pipe.execute()


def leave(redis: Redis, name: str) -> None:
    pipe = redis.pipeline()
    pipe.zrem(SERVERS_KEY, name)
    pipe.hdel(MODELS_KEY, name)
    pipe.hdel(FACTS_KEY, name)
    pipe.execute()


def live_count(redis: Redis, now: float | None = None) -> int:
    return int(redis.zcount(SERVERS_KEY, time.time() if now is None else now, "+inf"))


def live_servers(redis: Redis, now: float | None = None) -> list[tuple[str, str]]:
    """(name, model) of each live model server, by name."""
    at = time.time() if now is None else now
    found = cast(list[bytes], redis.zrangebyscore(SERVERS_KEY, at, "+inf"))
    names = [as_text(n) for n in found]
    if not names:
        return []
    models = redis.hmget(MODELS_KEY, names)
    return sorted(
        (name, as_text(model) if model else "")
        for name, model in zip(names, cast(list[bytes | None], models), strict=True)
    )


def live_models(redis: Redis, now: float | None = None) -> list[ModelFacts]:
    """The facts of each model the live servers run, one per model name, by name."""
    at = time.time() if now is None else now
    names = [as_text(n) for n in cast(list[bytes], redis.zrangebyscore(SERVERS_KEY, at, "+inf"))]
    if not names:
        return []
    facts = cast(list[bytes | None], redis.hmget(FACTS_KEY, names))
    models = cast(list[bytes | None], redis.hmget(MODELS_KEY, names))
    found = {
        f.name: f
        for f in (
            ModelFacts.loads(as_text(fact) if fact else None, as_text(model) if model else "")
            for fact, model in zip(facts, models, strict=True)
        )
        if f.name
    }
    return [found[n] for n in sorted(found)]
