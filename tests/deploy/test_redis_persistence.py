"""deploy/redis/trapline.conf: a queued job survives a Redis restart."""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from shared.contract import JobState, JobStatus, enqueue_job, job_queue
from shared.storage import new_job_id
from tests.conftest import REPO, RedisServer
from tests.processes import state_of


def test_queued_jobs_survive_a_restart(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    conf = REPO / "deploy" / "redis" / "trapline.conf"
    server.start("--include", str(conf))  # later arguments override nothing persistence-related
    try:
        with Redis.from_url(server.url) as client:
            assert client.config_get("appendonly")["appendonly"] == "yes"
            assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
            job_id = new_job_id()
            enqueue_job(client, JobState(id=job_id, email="r@example.org", total=3))
    finally:
        server.stop()  # SIGTERM: Redis flushes its append-only file and exits
    server.start("--include", str(conf))
    try:
        with Redis.from_url(server.url) as client:
            state = state_of(client, job_id)
            assert state.status is JobStatus.QUEUED and state.total == 3
            assert job_queue(client).get_job_ids() == [job_id]
    finally:
        server.stop()
