"""A status poll costs a fixed handful of Redis commands, whatever the number of keys and jobs:
counted by Redis itself (INFO commandstats) at 20 records and at 20,000 with 200 queued."""

from __future__ import annotations

import pytest

from shared.contract import (
    RECENT_KEY,
    STATE_TTL_SECONDS,
    JobState,
    JobStatus,
    enqueue_job,
    state_key,
)
from shared.storage import new_job_id

MAX_COMMANDS = 15


def commands_served(redis_conn) -> int:
    stats = redis_conn.info("commandstats")
    return sum(int(v["calls"]) for v in stats.values())


def fill(redis_conn, finished: int, queued: int) -> list[str]:
    """`finished` records of past jobs and `queued` jobs waiting, as the service leaves them."""
    pipe = redis_conn.pipeline(transaction=False)
    for i in range(finished):
        state = JobState(id=new_job_id(), status=JobStatus.FINISHED, total=50, created_at=i)
        pipe.hset(state_key(state.id), mapping=state.to_redis())
        pipe.expire(state_key(state.id), STATE_TTL_SECONDS)
        pipe.zadd(RECENT_KEY, {state.id: state.created_at})
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    ids = []
    for _ in range(queued):
        state = enqueue_job(redis_conn, JobState(id=new_job_id(), email="r@example.org", total=10))
        ids.append(state.id)
    return ids


def poll_cost(client, redis_conn, job_id: str) -> tuple[int, dict]:
    before = commands_served(redis_conn)
    body = client.get(f"/api/jobs/{job_id}").get_json()
    after = commands_served(redis_conn)
    return after - before - 1, body  # less the first INFO itself


@pytest.mark.parametrize(("finished", "queued"), [(15, 5), (19_800, 200)])
def test_a_status_poll_costs_the_same_few_commands_at_any_size(
    client, redis_conn, finished: int, queued: int
) -> None:
    ids = fill(redis_conn, finished, queued)
    assert redis_conn.dbsize() >= finished + queued
    cost, body = poll_cost(client, redis_conn, ids[-1])
    assert body["status"] == "queued" and body["queue_position"] == queued
    assert body["jobs_ahead"] == queued - 1 and body["images_ahead"] == 10 * (queued - 1)
    assert body["notice"]  # no model server is running: said, without a scan
    print(f"{finished + queued} records: {cost} Redis commands for one status poll")
    assert cost <= MAX_COMMANDS
    first_cost, first = poll_cost(client, redis_conn, ids[0])
    assert first["queue_position"] == 1 and first["jobs_ahead"] == 0
    assert first_cost <= MAX_COMMANDS
