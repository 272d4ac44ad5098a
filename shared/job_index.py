"""Reads over many jobs, each a fixed number of Redis commands whatever the number of keys or
jobs: the unfinished jobs (recovery), the most recent ones (admin), a queued job's position and
the work ahead of it (every status poll)."""

from __future__ import annotations

from typing import cast

from redis import Redis

from shared.contract import job_queue
from shared.job_record import (
    RECENT_KEY,
    STATE_PREFIX,
    UNFINISHED_KEY,
    JobState,
    JobStatus,
    as_text,
    index_in_pipeline,
    load_states,
    state_key,
)
from shared.leases import running_detections


def unfinished_states(redis: Redis) -> list[JobState]:
    """Every job with work queued or running (detection, or a follow-up on a finished job)."""
    ids = [as_text(i) for i in cast(list[bytes], redis.hkeys(UNFINISHED_KEY))]
    states = load_states(redis, ids)
    gone = set(ids) - {state.id for state in states}
    if gone:  # records that expired or were removed: their entries go too
        redis.hdel(UNFINISHED_KEY, *gone)
    return states


def recent_states(redis: Redis, count: int) -> list[JobState]:
    """The `count` most recently created jobs whose records still exist, newest first."""
    ids = [as_text(i) for i in cast(list[bytes], redis.zrevrange(RECENT_KEY, 0, count - 1))]
    return load_states(redis, ids)


def queue_position(redis: Redis, state: JobState) -> int | None:
    """1 for the next job to run; None when not waiting in the queue."""
    if state.status is not JobStatus.QUEUED or not state.rq_id:
        return None
    index = redis.lpos(job_queue(redis).key, state.rq_id)
    return None if index is None else int(cast(int, index)) + 1


def work_ahead(redis: Redis, state: JobState, position: int | None) -> tuple[int, int]:
    """Jobs that will run before this queued one (those queued ahead of it and those whose
    detection runs now) and the files they still have to do. Three commands: the queue ahead,
    the live leases, and those jobs' entries in the unfinished index."""
    if position is None:
        return 0, 0
    # (position 1 has nothing ahead: LRANGE 0 -1 would be the whole queue)
    queued = (
        cast(list[bytes], redis.lrange(job_queue(redis).key, 0, position - 2))
        if position > 1
        else []
    )
    ahead = [as_text(i)[:32] for i in queued]
    ids = list(dict.fromkeys([*ahead, *running_detections(redis)]))
    ids = [job_id for job_id in ids if job_id != state.id]
    if not ids:
        return 0, 0
    found = cast(list[bytes | None], redis.hmget(UNFINISHED_KEY, ids))
    left = [value for value in found if value is not None]
    return len(left), sum(int(value) for value in left)


INDEX_VERSION_KEY = "trapline:index-version"
INDEX_VERSION = b"1"


def ensure_indexes(redis: Redis) -> int:
    """Builds the indexes once per Redis for records written by a release that kept none: the
    only scan of the keyspace, run by a model server as it starts, never on a request or a
    periodic path. Returns how many records it indexed."""
    if redis.get(INDEX_VERSION_KEY) == INDEX_VERSION:
        return 0
    job_ids = [
        as_text(key).removeprefix(STATE_PREFIX)
        for key in redis.scan_iter(STATE_PREFIX + "*", count=1000)
    ]
    count = 0
    for start in range(0, len(job_ids), 1000):  # a round trip per thousand records, not two each
        batch = job_ids[start : start + 1000]
        read = redis.pipeline(transaction=False)
        for job_id in batch:
            read.hget(state_key(job_id), "created_at")
        write = redis.pipeline(transaction=False)
        for job_id, created in zip(batch, read.execute(), strict=True):
            if created is None:
                continue
            write.zadd(RECENT_KEY, {job_id: float(cast(bytes, created))})
            index_in_pipeline(write, job_id)
            count += 1
        write.execute()
    redis.set(INDEX_VERSION_KEY, INDEX_VERSION)
    return count
