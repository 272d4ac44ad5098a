"""The job function RQ runs on a model server: one submission in, one result zip out.

The detector is loaded once per worker process by `install()` and kept here; the job function
itself takes only the job id (its signature is a wire contract with jobs already queued).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from model_server.detection import Detector
from shared.inputs import collect_inputs
from model_server.notify import send_notice
from model_server.pipeline import PipelineOptions, run_batch
from shared.contract import (RATE_KEY, JobState, JobStatus, drop_lease, enqueue_job,
                             job_timeout, load_state, save_state, take_lease, update_fields)
from shared.errors import InputError, JobCancelled, ResultsError, TraplineError
from shared.logs import job_context
from shared.settings import Settings
from shared.storage import Storage

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes
CANCEL_CHECK_INTERVAL = 1.0


class WorkerStopping(TraplineError):
    """The model server is shutting down: release the job so another one carries on."""


@dataclass
class _Runtime:
    detector: Detector
    settings: Settings
    name: str


_runtime: _Runtime | None = None
stopping = threading.Event()  # set by the worker's SIGTERM handler
running: dict[str, str] = {}  # job id -> this server's name, while a job runs (for the lease)


def install(detector: Detector, settings: Settings, name: str = "local") -> None:
    """Called once by the worker after the model is loaded, before it takes any job."""
    global _runtime
    _runtime = _Runtime(detector, settings, name)
    stopping.clear()


class _Progress:
    """Throttled progress writes, and the cancel/stop checks between images."""

    def __init__(self, redis: Redis, job_id: str) -> None:
        self.redis, self.job_id = redis, job_id
        self.started = time.monotonic()
        self.first_done: int | None = None
        self.last_write = self.last_check = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.first_done is None:
            self.first_done, self.started = done, now
        if now - self.last_write < PROGRESS_INTERVAL and done < total:
            return
        self.last_write = now
        elapsed = now - self.started
        rate = (done - self.first_done) / elapsed if elapsed > 0 and done > self.first_done else None
        try:
            update_fields(self.redis, self.job_id, processed=done, total=total, rate=rate)
        except RedisError as exc:  # progress display only: the checkpoint on disk is the truth
            log.warning("progress not recorded, Redis unreachable: %s", exc)

    def should_stop(self) -> bool:
        if stopping.is_set():
            raise WorkerStopping("the model server is stopping")
        now = time.monotonic()
        if now - self.last_check < CANCEL_CHECK_INTERVAL:
            return False
        self.last_check = now
        try:
            state = load_state(self.redis, self.job_id)
        except RedisError:
            return False  # cannot tell: keep working, the next check may succeed
        return state is None or state.cancel_requested


def process_job(job_id: str) -> dict[str, object]:
    """RQ entry point. Outcomes land in the job's state; only unexpected errors propagate."""
    with job_context(job_id):
        return _process(job_id)


def _process(job_id: str) -> dict[str, object]:
    if _runtime is None:
        raise RuntimeError("no detector installed in this worker process")
    current = get_current_job()
    if current is None:
        raise RuntimeError("process_job runs inside an RQ worker")
    redis = current.connection
    settings = _runtime.settings
    state = load_state(redis, job_id)
    if state is None or state.status.is_final:
        log.warning("job %s: nothing to do (state %s)", job_id, state and state.status.value)
        return {"status": state.status.value if state else "unknown"}
    # The lease says "a live model server has this job"; without it, recovery requeues the job.
    take_lease(redis, job_id, _runtime.name, settings.lease_seconds)
    running[job_id] = _runtime.name
    try:
        save_state(redis, state, status=JobStatus.PROCESSING, started_at=time.time(),
                   model=_runtime.detector.info.name, error="")
        return _run(redis, state, settings)
    finally:
        running.pop(job_id, None)
        drop_lease(redis, job_id)


def _run(redis: Redis, state: JobState, settings: Settings) -> dict[str, object]:
    assert _runtime is not None
    job_id = state.id
    storage = Storage(settings.data_dir)
    log.info("job %s: started (attempt %d)", job_id, state.attempt)
    progress = _Progress(redis, job_id)
    try:
        inventory = collect_inputs(storage.upload_files(job_id))
        result = run_batch(inventory, _runtime.detector, storage.work_dir(job_id),
                           storage.result_zip(job_id), PipelineOptions.from_settings(settings),
                           on_progress=progress, should_stop=progress.should_stop,
                           fatal=(JobTimeoutException, WorkerStopping))
    except WorkerStopping:
        log.info("job %s: released by a stopping model server; queued again", job_id)
        enqueue_job(redis, load_state(redis, job_id) or state, at_front=True)
        return {"status": "released"}
    except JobCancelled:
        storage.remove_job_files(job_id)
        storage.result_zip(job_id).unlink(missing_ok=True)
        save_state(redis, load_state(redis, job_id) or state, status=JobStatus.CANCELLED,
                   finished_at=time.time())
        log.info("job %s: cancelled", job_id)
        return {"status": "cancelled"}
    except (InputError, ResultsError) as exc:
        keep = isinstance(exc, ResultsError)  # a disk problem: keep the upload for a retry
        storage.remove_job_files(job_id, keep_upload=keep)
        save_state(redis, state, status=JobStatus.FAILED, error=str(exc), finished_at=time.time())
        log.warning("job %s: failed: %s", job_id, exc)
        send_notice(settings, state)
        return {"status": "failed"}
    except JobTimeoutException:
        minutes = job_timeout(state.total) // 60
        save_state(redis, state, status=JobStatus.FAILED, finished_at=time.time(),
                   error=f"The job took longer than the {minutes} minutes allowed for "
                   f"{state.total} images and was stopped. Your upload is kept; the "
                   "administrators can requeue it, and it resumes where it stopped.")
        log.error("job %s: timed out", job_id)
        send_notice(settings, state)
        return {"status": "failed"}
    except Exception:
        save_state(redis, state, status=JobStatus.FAILED, finished_at=time.time(),
                   error="The model server hit an unexpected problem with this job. Your upload "
                   "is kept; the site's administrators can see the details and requeue it.")
        log.exception("job %s: unexpected error", job_id)
        send_notice(settings, state)
        raise
    tally = result.tally
    summary = {"images": tally.images, "errors": tally.errors,
               "animal": tally.with_category("animal"), "person": tally.with_category("person"),
               "vehicle": tally.with_category("vehicle"), "empty": tally.outcomes["empty"],
               "threshold": result.run.threshold, "warnings": result.warnings}
    final = load_state(redis, job_id) or state
    rate = tally.images / max(result.run.seconds, 1e-6)
    save_state(redis, final, status=JobStatus.FINISHED, processed=tally.images,
               total=tally.images, finished_at=time.time(), summary=summary, rate=rate)
    redis.set(RATE_KEY, rate)
    storage.remove_job_files(job_id)
    log.info("job %s: finished, %d images, %d errors", job_id, tally.images, tally.errors)
    send_notice(settings, final)
    return {"status": "finished", **summary}
