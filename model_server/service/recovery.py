"""Warm start: finding work that would otherwise be lost, and putting it back on the queue.

Run by every model server when it starts and then every `recovery_seconds` on its own thread,
reading only the index of unfinished jobs, so a job survives the death of the machine that was
running it:
- a job marked processing whose lease has expired (its model server was killed or lost power)
  is queued again at the front; its checkpoint lets the next server resume where it stopped;
- a job recorded as queued whose RQ job is gone (written by an older version non-atomically, or
  lost with a Redis that was restarted without persistence) is queued again;
- an upload that reached the disk but never the queue (Redis was down) is queued;
- a follow-up (export, classify) whose server died is queued again (`follow_up_recovery`).
A short Redis lock per job makes sure two servers never requeue the same job twice.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from redis import Redis
from sqlalchemy import Engine

from model_server.service.class_upload_recovery import recover_class_uploads
from model_server.service.follow_up_recovery import recover_follow_ups, rq_job_alive
from model_server.service.notify import send_notice
from shared.contract import (
    JobState,
    JobStatus,
    TransitionRefused,
    enqueue_job,
    job_queue,
    load_state,
    state_key,
    transition,
)
from shared.job_index import unfinished_states
from shared.leases import has_lease
from shared.options import JobOptions
from shared.settings import Settings
from shared.storage import Storage, is_job_id

log = logging.getLogger(__name__)
LOCK_PREFIX = "trapline:recovering:"
# A record written this recently may still be on its way into the queue (an older version wrote
# the two apart); it is left alone for this long. A running job needs no such margin: its lease
# is taken before its record says `processing`.
GRACE_SECONDS = 5


def _claim(redis: Redis, job_id: str) -> bool:
    return bool(redis.set(LOCK_PREFIX + job_id, "1", nx=True, ex=60))


def requeue_orphans(redis: Redis, settings: Settings | None = None) -> list[str]:
    """Jobs whose model server died: queued again at the front to resume, or failed once their
    servers have died `max_attempts` times on them (a poison job would take every server down)."""
    max_attempts = settings.max_attempts if settings else Settings().max_attempts
    requeued = []
    for state in unfinished_states(redis):
        if state.status is not JobStatus.PROCESSING or has_lease(redis, state.id):
            continue
        if not _claim(redis, state.id):
            continue
        try:
            fresh = load_state(redis, state.id)
            if (
                fresh is None
                or fresh.status is not JobStatus.PROCESSING
                or has_lease(redis, state.id)
            ):
                continue
            if _count_crash(redis, fresh, max_attempts, settings) and _requeue(
                redis, fresh, JobStatus.PROCESSING, at_front=True
            ):
                requeued.append(state.id)
        finally:
            redis.delete(LOCK_PREFIX + state.id)
    return requeued


def _count_crash(
    redis: Redis, state: JobState, max_attempts: int, settings: Settings | None
) -> bool:
    """Records one more death of the job's server; True to requeue it, False once it failed."""
    in_hand = state.in_flight
    suspects = [name for name in state.suspects if name in in_hand] if state.crashes else []
    suspects = suspects or in_hand
    crashes = state.crashes + 1
    if crashes < max_attempts:
        log.warning(
            "job %s: its model server stopped answering (%d of %d allowed); queued again to resume",
            state.id,
            crashes,
            max_attempts - 1,
        )
        return transition(
            redis,
            state.id,
            (JobStatus.PROCESSING,),
            attempt=state.attempt,
            crashes=crashes,
            suspects=suspects,
            in_flight=[],
        )
    names = ", ".join(suspects[:10]) or "(not recorded)"
    message = (
        f"The model server stopped {crashes} times while working on this job (killed, "
        "out of memory, or crashed), each time with one of these files in hand: "
        f"{names}. The job was stopped so that it cannot take the server down again. "
        "Your upload is kept: the administrators can look at those files, remove them, "
        "and requeue the job, which resumes where it stopped."
    )
    if transition(
        redis,
        state.id,
        (JobStatus.PROCESSING,),
        attempt=state.attempt,
        status=JobStatus.FAILED,
        finished_at=time.time(),
        crashes=crashes,
        suspects=suspects,
        error=message,
    ):
        log.error(
            "job %s: failed after %d model server deaths; suspects: %s", state.id, crashes, names
        )
        if settings is not None:
            state.status, state.error = JobStatus.FAILED, message
            send_notice(settings, state)
    return False


def _requeue(redis: Redis, state: JobState, status: JobStatus, *, at_front: bool) -> bool:
    try:
        enqueue_job(
            redis, state, at_front=at_front, allowed=(status,), expect_attempt=state.attempt
        )
    except TransitionRefused as exc:  # it moved on while we looked: nothing to do
        log.info("job %s: not requeued (%s)", state.id, exc)
        return False
    return True


def requeue_lost_queue_entries(redis: Redis, now: Callable[[], float] = time.time) -> list[str]:
    """Records that say `queued` while no RQ job carries them would wait forever."""
    requeued = []
    waiting = set(job_queue(redis).get_job_ids())
    for state in unfinished_states(redis):
        if state.status is not JobStatus.QUEUED or state.rq_id in waiting:
            continue
        if now() - state.created_at < GRACE_SECONDS or rq_job_alive(redis, state.rq_id):
            continue
        if not _claim(redis, state.id):
            continue
        fresh = load_state(redis, state.id)
        if fresh is None or fresh.status is not JobStatus.QUEUED:
            continue
        log.warning("job %s: recorded as queued but missing from the queue; queued again", state.id)
        if _requeue(redis, fresh, JobStatus.QUEUED, at_front=False):
            requeued.append(state.id)
    return requeued


def enqueue_stranded_uploads(redis: Redis, storage: Storage) -> list[str]:
    """Uploads with their `.job.json` but no job record: created while Redis was unreachable."""
    queued: list[str] = []
    if not storage.uploads_root.is_dir():
        return queued
    for folder in sorted(storage.uploads_root.iterdir()):
        marker = folder / ".job.json"
        if (
            not is_job_id(folder.name)
            or not marker.is_file()
            or redis.exists(state_key(folder.name))
        ):
            continue
        if not _claim(redis, folder.name):
            continue
        try:
            meta = json.loads(marker.read_text(encoding="utf-8"))
            # written flat beside the upload by the release before JobOptions
            options = JobOptions.from_json(meta.get("options") or meta)
        except (OSError, TypeError, ValueError):
            log.error("upload %s has an unreadable .job.json; left for an administrator", folder)
            continue
        state = JobState(
            id=folder.name,
            email=str(meta.get("email", "")),
            total=int(meta.get("images", 0)),
            base_url=str(meta.get("base_url", "")),
            created_at=float(meta.get("created_at", time.time())),
            videos=int(meta.get("videos", 0)),
            options=options,
        )
        log.warning("job %s: upload found on disk without a queue entry; queued now", state.id)
        enqueue_job(redis, state)
        queued.append(state.id)
    return queued


def recover(
    redis: Redis,
    storage: Storage,
    settings: Settings | None = None,
    now: Callable[[], float] = time.time,
    engine: Engine | None = None,
) -> list[str]:
    """What was queued again: job ids, and `class-upload-<id>` for class-example uploads (those
    need the results database: `engine`)."""
    uploads = (
        recover_class_uploads(redis, engine, storage, settings, rq_job_alive)
        if engine is not None and settings is not None
        else []
    )
    return (
        requeue_orphans(redis, settings)
        + recover_follow_ups(redis, settings)
        + requeue_lost_queue_entries(redis, now)
        + enqueue_stranded_uploads(redis, storage)
        + [f"class-upload-{upload_id}" for upload_id in uploads]
    )
