"""A large detect job split into chunks that any model server may run.

The server that took the job (its *coordinator*) plans the chunks from what is not stored yet,
publishes them here and queues one RQ job per chunk, all in one RQ group; it then runs chunks
itself like any other server, takes over a chunk whose server died (its lease lapsed), and
once every chunk is stored it makes the outputs from the store, once. So progress, ETA,
cancel, the job timeout and recovery stay the job's, as for a job run whole, and a chunk is
fenced by the job's attempt: a coordinator's death ends its chunks too, and the next attempt
plans again from what is stored (the store never holds a file twice).

Everything here lives under one attempt: `trapline:chunks:<job id>#<attempt>` holds the plan
(`count`, and per chunk its files as `[ordinal, path]` pairs), `…:done` the chunks stored,
`…:stored` the files stored so far by every server (the job's progress), and `…:news` a list
the coordinator blocks on, pushed whenever a chunk ends or is let go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from redis import Redis
from redis.exceptions import RedisError

from shared.job_record import STATE_TTL_SECONDS, as_text

PREFIX = "trapline:chunks:"
# A chunk's files as (ordinal in the job's inventory, path in the upload)
ChunkFiles = list[tuple[int, str]]


@dataclass(frozen=True)
class ChunkKeys:
    job_id: str
    attempt: int

    @property
    def plan(self) -> str:
        return f"{PREFIX}{self.job_id}#{self.attempt}"

    @property
    def done(self) -> str:
        return self.plan + ":done"

    @property
    def stored(self) -> str:
        return self.plan + ":stored"

    @property
    def news(self) -> str:
        return self.plan + ":news"

    @property
    def all(self) -> tuple[str, ...]:
        return (self.plan, self.done, self.stored, self.news)


def split(files: Iterable[tuple[int, str, int]], size: int) -> list[ChunkFiles]:
    """`files` as (ordinal, path, weight) in order, cut into chunks of at most `size` weight
    (a photo weighs 1, a video the frames it may have checked); a file heavier than `size`
    is a chunk of its own."""
    chunks: list[ChunkFiles] = []
    current: ChunkFiles = []
    weight = 0
    for ordinal, path, cost in files:
        if current and weight + cost > size:
            chunks.append(current)
            current, weight = [], 0
        current.append((ordinal, path))
        weight += cost
    if current:
        chunks.append(current)
    return chunks


def publish(redis: Redis, keys: ChunkKeys, chunks: Sequence[ChunkFiles], stored: int) -> None:
    """The attempt's plan, with `stored` files already in the store (a resumed job)."""
    pipe = redis.pipeline()
    pipe.delete(*keys.all)
    fields: dict[str, str | int] = {str(i): json.dumps(files) for i, files in enumerate(chunks)}
    fields["count"] = len(chunks)
    pipe.hset(keys.plan, mapping=fields)  # type: ignore[arg-type]
    pipe.set(keys.stored, stored)
    for key in keys.all:
        pipe.expire(key, STATE_TTL_SECONDS)
    pipe.execute()


def files_of(redis: Redis, keys: ChunkKeys, chunk: int) -> ChunkFiles | None:
    """The chunk's files, or None once its attempt's plan is gone (the job moved on)."""
    value = redis.hget(keys.plan, str(chunk))
    if value is None:
        return None
    return [(int(ordinal), str(path)) for ordinal, path in json.loads(as_text(cast(bytes, value)))]


def finished(redis: Redis, keys: ChunkKeys) -> set[int]:
    return {int(as_text(m)) for m in cast(set[bytes], redis.smembers(keys.done))}


def is_finished(redis: Redis, keys: ChunkKeys, chunk: int) -> bool:
    return bool(redis.sismember(keys.done, str(chunk)))


def mark_finished(redis: Redis, keys: ChunkKeys, chunk: int) -> None:
    pipe = redis.pipeline()
    pipe.sadd(keys.done, str(chunk))
    pipe.rpush(keys.news, f"done {chunk}")
    pipe.execute()


def note_let_go(redis: Redis, keys: ChunkKeys, chunk: int) -> None:
    """A server stopped working on the chunk without storing all of it."""
    redis.rpush(keys.news, f"let go {chunk}")


def note_stored(redis: Redis, keys: ChunkKeys) -> int | None:
    """One more file stored by some server; the job's files stored so far, or None when Redis
    did not answer (a progress figure only: the store is the truth)."""
    try:
        return int(redis.incr(keys.stored))
    except RedisError:
        return None


def stored(redis: Redis, keys: ChunkKeys) -> int:
    value = redis.get(keys.stored)
    return int(as_text(cast(bytes, value))) if value is not None else 0


def wait_for_news(redis: Redis, keys: ChunkKeys, seconds: float) -> str | None:
    """Blocks until a chunk ends or is let go, or `seconds` pass."""
    answer = redis.blpop([keys.news], timeout=seconds)
    return as_text(cast(list[bytes], answer)[1]) if answer else None


def forget(redis: Redis, keys: ChunkKeys) -> None:
    redis.delete(*keys.all)
