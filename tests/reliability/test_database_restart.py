"""A PostgreSQL restart under a running job (issue 33, item 11), on a server of the test's own
that it stops (fast shutdown: every session ended) and starts again: the model server waits,
logs why, and finishes the job with every image stored once; meanwhile the site answers 503 with
a message, not a raw 500. The model server is paused (SIGSTOP) while the database goes away, so
the outage falls in the middle of the job however fast the machine."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from shared.contract import JobStatus
from shared.store import open_configured_store
from shared.store.writes import done_paths
from tests.conftest import free_port, open_site
from tests.postgres import PostgresServer
from tests.processes import Workers, state_of, wait_for
from tests.reliability.test_faults import _each_once, queue_job

pytestmark = pytest.mark.slow
IMAGES = 60


@pytest.fixture
def own_postgres():
    server = PostgresServer(free_port())
    server.start()
    yield server
    server.stop()


def test_a_postgres_restart_mid_job_is_waited_out(
    settings, redis_conn, own_postgres: PostgresServer, tmp_path: Path
) -> None:
    mine = settings.with_overrides(database_url=own_postgres.new_database())
    workers = Workers(mine, tmp_path)
    try:
        job_id = queue_job(redis_conn, mine, IMAGES, size=(1200, 900))
        server = workers.start(TRAPLINE_STORE_BATCH_IMAGES="4")  # the outage falls between commits
        wait_for(lambda: state_of(redis_conn, job_id).processed >= 1, what="the job under way")
        engine = open_configured_store(mine)
        try:
            wait_for(lambda: len(done_paths(engine, job_id)) >= 8, what="8 images stored")
            server.send_signal(signal.SIGSTOP)
            stored = len(done_paths(engine, job_id))
        finally:
            engine.dispose()
        assert stored < IMAGES  # paused in the middle of the job
        site = open_site(mine)  # opened (and its store migrated) while the database is up
        own_postgres.pause()

        with site.test_client() as client:
            answer = client.get(f"/api/jobs/{job_id}/media")
            assert answer.status_code == 503, answer.get_data(as_text=True)[:300]
            assert "results database is not answering" in answer.get_json()["error"]
            assert answer.headers["Retry-After"] == "30"

        server.send_signal(signal.SIGCONT)
        wait_for(
            lambda: "database unreachable while storing" in workers.log(0),
            timeout=60,
            what="the model server noticing the outage",
        )
        assert state_of(redis_conn, job_id).status is JobStatus.PROCESSING
        own_postgres.run()
        wait_for(
            lambda: state_of(redis_conn, job_id).status is JobStatus.FINISHED,
            timeout=120,
            what="the job finished after the restart",
        )
        assert server.poll() is None  # it rode the outage out
        state = state_of(redis_conn, job_id)
        assert not state.error and state.processed == IMAGES
        _each_once(mine, job_id, IMAGES)
    finally:
        workers.stop_all()
