"""Races between the site, the queue and the model servers, reproduced deterministically on a
real Redis with a real RQ worker."""

from __future__ import annotations

import threading
import time

from shared.contract import JobStatus, enqueue_job, transition
from tests.processes import state_of
from tests.web.helpers import SCRIPT, form, photo


def submit(client, n: int = 1) -> str:
    response = client.post(
        "/api/jobs",
        data=form(files=[(photo(i), f"{i}.jpg") for i in range(n)]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 201
    return response.get_json()["id"]


def test_a_cancel_arriving_as_the_job_finishes_changes_nothing(
    app, client, run_worker, redis_conn, settings
) -> None:
    """The cancel view read the record while the job was running; the job finished before the
    cancel wrote. The finished job must stay finished, and nothing may requeue it."""
    from model_server.service.recovery import recover
    from shared.storage import Storage
    from web import job_status

    job_id = submit(client)
    stale = state_of(redis_conn, job_id)
    stale.status = JobStatus.PROCESSING
    run_worker()
    assert state_of(redis_conn, job_id).status is JobStatus.FINISHED
    with app.test_request_context():
        job_status.cancel_job(stale)
    after = state_of(redis_conn, job_id)
    assert after.status is JobStatus.FINISHED and not after.cancel_requested
    assert recover(redis_conn, Storage(settings.data_dir)) == []
    with client.get(f"/download/{job_id}") as response:
        assert response.status_code == 200


def test_a_stale_attempt_cannot_write_the_jobs_record(client, redis_conn) -> None:
    job_id = submit(client)
    assert transition(
        redis_conn, job_id, (JobStatus.QUEUED,), attempt=1, status=JobStatus.PROCESSING
    )
    state = state_of(redis_conn, job_id)
    enqueue_job(redis_conn, state, allowed=(JobStatus.PROCESSING,))  # taken over: attempt 2
    assert not transition(
        redis_conn,
        job_id,
        (JobStatus.QUEUED, JobStatus.PROCESSING),
        attempt=1,
        status=JobStatus.FINISHED,
    )
    assert state_of(redis_conn, job_id).status is JobStatus.QUEUED


def test_record_and_queue_entry_are_written_in_one_transaction(redis_conn, redis_server) -> None:
    """Seen on the wire with MONITOR: the job record and the queue push sit between one MULTI
    and its EXEC, so a Redis drop can never leave one without the other."""
    from redis import Redis

    from shared.contract import JobState
    from shared.storage import new_job_id

    seen: list[str] = []
    ready = threading.Event()
    watcher = Redis.from_url(redis_server.url, decode_responses=True)

    def watch() -> None:
        with watcher.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                seen.append(command["command"])
                if command["command"].startswith("EXEC") and any(
                    "LPUSH" in c or "RPUSH" in c for c in seen
                ):
                    return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    deadline = time.monotonic() + 10
    while "PING" not in seen and time.monotonic() < deadline:  # MONITOR is listening once it
        redis_conn.ping()  # reports a command of ours
    assert "PING" in seen
    job_id = new_job_id()
    enqueue_job(redis_conn, JobState(id=job_id, email="r@example.org", total=1))
    thread.join(10)
    hset = next(i for i, c in enumerate(seen) if c.startswith(f"HSET trapline:job:{job_id}"))
    push = next(i for i, c in enumerate(seen) if "PUSH rq:queue:trapline" in c)
    multi = max(i for i, c in enumerate(seen[:hset]) if c == "MULTI")
    execs = [i for i, c in enumerate(seen) if c == "EXEC" and i > multi]
    assert execs and hset < execs[0] and push < execs[0], seen


def test_a_queued_record_without_its_rq_job_is_queued_again(
    client, run_worker, redis_conn, settings
) -> None:
    """What a non-atomic write (an older version, a Redis restored without its queue) left."""
    from model_server.service.recovery import recover
    from shared.storage import Storage

    job_id = submit(client, 2)
    redis_conn.delete("rq:queue:trapline", f"rq:job:{job_id}")
    created = 1_790_000_000.0
    transition(redis_conn, job_id, JobStatus, created_at=created)
    store = Storage(settings.data_dir)
    assert recover(redis_conn, store, now=lambda: created + 2) == []  # may still be on its way
    assert recover(redis_conn, store, now=lambda: created + 120) == [job_id]
    assert recover(redis_conn, store, now=lambda: created + 180) == []  # once is enough
    run_worker()
    final = state_of(redis_conn, job_id)
    assert final.status is JobStatus.FINISHED and final.processed == 2
