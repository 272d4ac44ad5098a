"""The job function RQ runs on a model server: one submission in, one result zip out.

The detector is loaded once per worker process by `install()` and kept here; the job function
itself takes only the job id (its signature is a wire contract with jobs already queued).

Every write about a job is fenced by its attempt number: a record only changes while it is still
on the attempt this server was given, so a server that lost its job (stalled past its lease, cut
off from Redis, requeued by an admin) can never overwrite what the new owner wrote.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import get_current_job
from rq.timeouts import JobTimeoutException
from sqlalchemy import Engine

from model_server.detectors.base import Detector
from model_server.pipeline.batch import BatchResult, run_batch
from model_server.pipeline.options import PipelineOptions
from model_server.pipeline.writer import StoreTarget
from model_server.repeats.appearance import RepeatSteps
from model_server.service.chunk_coordinator import ChunkCoordinator
from model_server.service.job_progress import Progress, WorkerStopping, lease_confirmed, stopping
from model_server.service.notify import send_notice
from model_server.service.redis_retry import retry_until_done
from model_server.species.embedder import Embedder, embedder_path, load_embedder
from model_server.species.step import species_step
from shared.contract import (
    RATE_KEY,
    JobState,
    JobStatus,
    TransitionRefused,
    enqueue_job,
    job_timeout,
    load_state,
    transition,
)
from shared.errors import InputError, JobCancelled, JobLost, ResultsError
from shared.inputs import collect_upload
from shared.leases import Lease, acquire, detect_lease, drop
from shared.logs import job_context
from shared.settings import Settings
from shared.stats import count as count_stats
from shared.storage import Storage
from shared.store.writes import delete_job, record_ended

log = logging.getLogger(__name__)
RUNNING = (JobStatus.PROCESSING,)


@dataclass
class _Runtime:
    detector: Detector
    settings: Settings
    name: str
    store: Engine
    _embedder: Embedder | None = None
    _embedder_lock: threading.Lock = field(default_factory=threading.Lock)

    def embedder(self) -> Embedder:
        """The species embedder, loaded on first use and kept (ModelLoadError when the settings
        name none or it cannot be read)."""
        with self._embedder_lock:
            if self._embedder is None:
                path = embedder_path(self.settings.species_embedder, self.settings.model_path)
                self._embedder = load_embedder(path, threads=self.settings.inference_threads)
            return self._embedder


_runtime: _Runtime | None = None
# lease name -> the lease of each piece of work running here, renewed by the heartbeat
running: dict[str, Lease] = {}
_running_lock = threading.Lock()


def register_lease(lease: Lease) -> None:
    with _running_lock:
        running[lease.name] = lease


def unregister_lease(lease: Lease) -> None:
    with _running_lock:
        running.pop(lease.name, None)
    lease_confirmed.pop(lease.name, None)


def runtime() -> _Runtime:
    if _runtime is None:
        raise RuntimeError("no detector installed in this worker process")
    return _runtime


def install(detector: Detector, settings: Settings, store: Engine, name: str = "local") -> None:
    """Called once by the worker after the model is loaded and the store migrated, before it
    takes any job."""
    global _runtime
    _runtime = _Runtime(detector, settings, name, store)
    stopping.clear()


def lease_token(name: str, attempt: int) -> str:
    return f"{name}#{attempt}"


def attempt_of(rq_id: str, job_id: str) -> int:
    """RQ ids are the job id for attempt 1 and `<id>-<n>` after (see `enqueue_job`)."""
    suffix = rq_id[len(job_id) :].lstrip("-")
    return int(suffix) if suffix.isdigit() else 1


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
    attempt = attempt_of(current.id, job_id)
    lease = detect_lease(job_id, lease_token(_runtime.name, attempt), attempt)
    state = load_state(redis, job_id)
    # The lease says "a live model server has this job"; without it, recovery requeues the job.
    # It is taken before the record says `processing`, so no processing record is ever without
    # a lease while its server lives.
    if not acquire(redis, lease, settings.lease_seconds):
        log.warning("job %s: attempt %d is already running elsewhere; skipped", job_id, attempt)
        return {"status": "skipped"}
    started = transition(
        redis,
        job_id,
        (JobStatus.QUEUED, JobStatus.PROCESSING),
        attempt=attempt,
        status=JobStatus.PROCESSING,
        started_at=time.time(),
        model=_runtime.detector.info.name,
        model_facts=_runtime.detector.info.facts().as_json(),
        error="",
    )
    if state is None or not started:
        drop(redis, lease)
        log.warning(
            "job %s: nothing to do for attempt %d (record says %s)",
            job_id,
            attempt,
            state and f"{state.status.value}, attempt {state.attempt}",
        )
        return {"status": "skipped"}
    state.attempt, state.status = attempt, JobStatus.PROCESSING
    state.model = _runtime.detector.info.name
    state.model_facts = _runtime.detector.info.facts().as_json()
    register_lease(lease)
    try:
        return _run(redis, state, settings, lease)
    finally:
        unregister_lease(lease)
        retry_until_done(lambda: drop(redis, lease), what="releasing the lease")


def _record(redis: Redis, state: JobState, status: JobStatus, **fields: Any) -> bool:
    """The job's final word, fenced by its attempt; retried while Redis is unreachable."""
    written = retry_until_done(
        lambda: transition(
            redis,
            state.id,
            RUNNING,
            attempt=state.attempt,
            status=status,
            finished_at=time.time(),
            **fields,
        ),
        what=f"recording the job as {status.value}",
    )
    if written:
        state.status = status
        for key, value in fields.items():
            setattr(state, key, value)
    else:
        log.warning(
            "job %s: not recorded as %s: attempt %d no longer owns the job",
            state.id,
            status.value,
            state.attempt,
        )
    return bool(written)


def _run(redis: Redis, state: JobState, settings: Settings, lease: Lease) -> dict[str, object]:
    job_id = state.id
    storage = Storage(settings.data_dir)
    log.info("job %s: started (attempt %d)", job_id, state.attempt)
    try:
        result = _detect(redis, state, settings, storage, lease)
    except WorkerStopping:
        return _release(redis, state, lease)
    except JobLost as exc:
        log.warning(
            "job %s: %s; this server stops working on it and writes nothing more", job_id, exc
        )
        return {"status": "lost"}
    except JobCancelled:
        if _record(redis, state, JobStatus.CANCELLED):
            storage.remove_job_files(job_id)
            storage.result_zip(job_id).unlink(missing_ok=True)
            _forget_results(storage, job_id)
            record_ended(runtime().store, job_id, "cancelled", datetime.now(UTC))
            log.info("job %s: cancelled", job_id)
        return {"status": "cancelled"}
    except InputError as exc:
        return _fail(redis, state, settings, str(exc), remove=("work", "upload"))
    except ResultsError as exc:  # disk trouble: the upload stays for a retry
        return _fail(redis, state, settings, str(exc), remove=("work",))
    except JobTimeoutException:
        minutes = job_timeout(state.total, state.videos) // 60
        what = (
            f"{state.total - state.videos} images and {state.videos} videos"
            if state.videos
            else f"{state.total} images"
        )
        return _fail(
            redis,
            state,
            settings,
            f"The job took longer than the {minutes} minutes allowed for {what} "
            "and was stopped. Your upload is kept; the administrators can requeue "
            "it, and it resumes where it stopped.",
        )
    except Exception:
        log.exception("job %s: unexpected error", job_id)
        _fail(
            redis,
            state,
            settings,
            "The model server hit an unexpected problem with this job. Your upload is kept; "
            "the site's administrators can see the details and requeue it.",
        )
        raise
    return _finished(redis, state, settings, storage, result)


def _detect(
    redis: Redis, state: JobState, settings: Settings, storage: Storage, lease: Lease
) -> BatchResult:
    """The batch on the job's upload, its results stored under the job's id."""
    rt = runtime()
    progress = Progress(redis, lease, settings.lease_seconds)
    inventory = collect_upload(
        storage.upload_files(state.id), max_file_bytes=settings.max_file_bytes
    )
    created = datetime.fromtimestamp(state.created_at, UTC)
    options = PipelineOptions.from_settings(settings, state.options)
    chunks = ChunkCoordinator(
        redis,
        lease,
        progress,
        size=settings.chunk_images,
        video_weight=options.max_frames,
        total=len(inventory.items),
        lease_seconds=settings.lease_seconds,
        register=register_lease,
        unregister=unregister_lease,
    )
    return run_batch(
        inventory,
        rt.detector,
        storage.work_dir(state.id),
        storage.result_zip(state.id),
        options,
        store=StoreTarget(rt.store, state.id, created),
        thumbnails=storage.thumbnail_dir(state.id),
        on_progress=progress,
        should_stop=progress.should_stop,
        fatal=(JobTimeoutException, WorkerStopping, JobLost),
        may_publish=progress.still_owner,
        exclusive=False,
        in_flight=progress.note_in_flight,
        species=(
            species_step(rt.store, state.options.class_set, rt.embedder)
            if state.options.class_set
            else None
        ),
        repeats=RepeatSteps(rt.embedder, settings.repeat_rules()),
        chunks=chunks,
    )


def _release(redis: Redis, state: JobState, lease: Lease) -> dict[str, object]:
    assert _runtime is not None
    # the lease goes first: the server that takes the requeued job must find it free
    retry_until_done(lambda: drop(redis, lease), what="releasing the lease")
    try:
        retry_until_done(
            lambda: enqueue_job(
                redis, state, at_front=True, allowed=RUNNING, expect_attempt=state.attempt
            ),
            what="queueing the released job again",
        )
        log.info("job %s: released by a stopping model server; queued again", state.id)
    except TransitionRefused as exc:
        log.warning("job %s: not queued again on release (%s)", state.id, exc)
    return {"status": "released"}


def _fail(
    redis: Redis, state: JobState, settings: Settings, message: str, *, remove: tuple[str, ...] = ()
) -> dict[str, object]:
    """Records the failure; `remove` names what is gone for good ("work", "upload"). By default
    both stay, so a requeue resumes from the checkpoint."""
    if _record(redis, state, JobStatus.FAILED, error=message):
        if "work" in remove:
            storage = Storage(settings.data_dir)
            storage.remove_job_files(state.id, keep_upload="upload" not in remove)
            _forget_results(storage, state.id)
        log.warning("job %s: failed: %s", state.id, message)
        _counted(redis, state.model, jobs_failed=1)
        send_notice(settings, state)
    return {"status": "failed"}


def _counted(redis: Redis, model: str, **added: int) -> None:
    """The fleet's counters for /metrics; a Redis hiccup costs a count, never the job."""
    try:
        count_stats(redis, model or "unknown", **added)
    except RedisError as exc:
        log.warning("the counters for /metrics were not updated: %s", exc)


def _forget_results(storage: Storage, job_id: str) -> None:
    """The stored rows and thumbnails of a job that will not resume: they were its checkpoint."""
    assert _runtime is not None
    delete_job(_runtime.store, job_id)
    shutil.rmtree(storage.thumbnail_dir(job_id), ignore_errors=True)


def _finished(
    redis: Redis, state: JobState, settings: Settings, storage: Storage, result: BatchResult
) -> dict[str, object]:
    tally = result.tally
    summary = tally.summary(result.run.threshold, result.warnings)
    rate = tally.images / max(result.run.seconds, 1e-6)
    if not _record(
        redis,
        state,
        JobStatus.FINISHED,
        processed=tally.images,
        total=tally.images,
        summary=summary,
        rate=rate,
    ):
        return {"status": "lost"}
    retry_until_done(lambda: redis.set(RATE_KEY, rate), what="recording the speed")
    _counted(
        redis,
        state.model,
        images_processed=tally.images,
        images_failed=tally.errors,
        jobs_finished=1,
    )
    storage.remove_job_files(state.id)
    log.info("job %s: finished, %d images, %d errors", state.id, tally.images, tally.errors)
    send_notice(settings, state)
    return {"status": "finished", **summary}
