"""A job split into chunks across three real model-server processes, one of them killed with
SIGKILL in the middle of a chunk: the chunk runs again on another server, every photo is stored
once, and the outputs are what the same job run whole on one server gives."""

from __future__ import annotations

import re
import signal

import pytest

from shared.contract import JobStatus, transition
from shared.model_servers import live_count
from shared.store import open_configured_store
from shared.store.writes import done_paths
from tests.processes import state_of, wait_for
from tests.reliability.test_faults import LEASE, queue_job, result_of

pytestmark = pytest.mark.slow
PHOTOS = 24
CHUNKS = {"TRAPLINE_CHUNK_IMAGES": "4", "TRAPLINE_STORE_BATCH_IMAGES": "2"}


def _chunk_lines(log: str, job_id: str) -> list[tuple[int, str]]:
    """(chunk, how) for each chunk a server began: "started" as a queued chunk, "here" as the
    job's coordinator."""
    found = re.finditer(rf"job {job_id}: chunk (\d+) \(\d+ files\) (started|runs here)", log)
    return [(int(m[1]), "started" if m[2] == "started" else "here") for m in found]


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_a_killed_servers_chunk_runs_again_elsewhere(workers, redis_conn, settings) -> None:
    servers = [workers.start(**LEASE, **CHUNKS) for _ in range(3)]
    wait_for(lambda: live_count(redis_conn) == 3, timeout=120, what="three model servers")
    job_id = queue_job(redis_conn, settings, PHOTOS, size=(2400, 1800))

    def a_queued_chunk_under_way() -> tuple[int, int] | None:
        for index in range(3):
            started = [n for n, how in _chunk_lines(workers.log(index), job_id) if how == "started"]
            if started:
                return index, started[0]
        return None

    under_way = wait_for(a_queued_chunk_under_way, timeout=120, what="a queued chunk running")
    assert under_way is not None
    victim, chunk = under_way
    servers[victim].send_signal(signal.SIGKILL)
    servers[victim].wait(timeout=10)
    assert f"job {job_id}: chunk {chunk} stored" not in workers.log(victim)  # killed mid-chunk

    wait_for(
        lambda: state_of(redis_conn, job_id).status is JobStatus.FINISHED,
        timeout=300,
        what="the job finished",
    )
    logs = {index: workers.log(index) for index in range(3)}
    print({index: _chunk_lines(log, job_id) for index, log in logs.items()})
    ran = {index for index, log in logs.items() if _chunk_lines(log, job_id)}
    assert len(ran) >= 2  # the chunks ran on more than one server
    again = [
        index
        for index, log in logs.items()
        if index != victim and (chunk, "here") in _chunk_lines(log, job_id)
    ]
    assert again, f"chunk {chunk} of the killed server did not run again elsewhere"
    assert f"job {job_id}: {PHOTOS} files to detect, in 6 chunks of up to 4" in "".join(
        logs.values()
    )

    engine = open_configured_store(settings)
    try:
        assert len(done_paths(engine, job_id)) == PHOTOS
    finally:
        engine.dispose()
    for proc in servers:  # the reference runs whole, on one server of its own
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
    reference = queue_job(redis_conn, settings, PHOTOS, size=(2400, 1800))  # the same photos
    assert workers.start("--burst", **LEASE).wait(timeout=300) == 0
    assert state_of(redis_conn, reference).status is JobStatus.FINISHED
    got, got_pictures = result_of(settings, job_id)
    want, want_pictures = result_of(settings, reference)
    assert [image["file"] for image in got] == [f"img{i:03d}.jpg" for i in range(PHOTOS)]
    assert got == want
    assert got_pictures == want_pictures


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_a_cancel_stops_every_servers_chunks_and_leaves_nothing_stored(
    workers, redis_conn, settings
) -> None:
    """Cancelled while two servers run its chunks: the job's server waits until the other has
    let its chunk go before it removes the results, so no late write brings a row back."""
    servers = [workers.start(**LEASE, **CHUNKS) for _ in range(2)]
    wait_for(lambda: live_count(redis_conn) == 2, timeout=120, what="two model servers")
    job_id = queue_job(redis_conn, settings, PHOTOS, size=(2400, 1800))
    engine = open_configured_store(settings)
    try:
        wait_for(
            lambda: any(
                how == "started"
                for index in range(2)
                for _, how in _chunk_lines(workers.log(index), job_id)
            ),
            timeout=120,
            what="a queued chunk running on the other server",
        )
        wait_for(lambda: len(done_paths(engine, job_id)) >= 2, what="some photos stored")
        assert transition(redis_conn, job_id, (JobStatus.PROCESSING,), cancel_requested=True)
        wait_for(
            lambda: f"job {job_id}: cancelled" in "".join(workers.log(i) for i in range(2)),
            timeout=120,
            what="the job cancelled and its results removed",
        )
        assert state_of(redis_conn, job_id).status is JobStatus.CANCELLED
        assert len(done_paths(engine, job_id)) == 0
        # no server holds a chunk any more, so nothing can be written after the removal
        assert not redis_conn.keys(f"trapline:lease:{job_id}:chunk:*")
        assert all(proc.poll() is None for proc in servers)  # both still serving
        assert len(done_paths(engine, job_id)) == 0
    finally:
        engine.dispose()
