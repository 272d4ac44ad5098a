"""Recovery of follow-ups (export, classify), by the same rule as detection's: a follow-up that
runs without a lease lost its model server and is queued again, once per death, until the
attempt cap; one recorded as queued that no RQ job carries any more is queued again; a mark left
on a job that is no longer finished is cleared. Fencing by the follow-up's RQ id makes each one
done exactly once: a stalled server that wakes finds its follow-up replaced and writes nothing."""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RqStatus
from rq.serializers import JSONSerializer

from shared.contract import (
    FollowUpState,
    JobKind,
    JobState,
    JobStatus,
    TransitionRefused,
    as_kind,
    enqueue_job,
    job_queue,
    load_state,
    transition,
)
from shared.job_index import unfinished_states
from shared.leases import has_lease
from shared.settings import Settings

log = logging.getLogger(__name__)
LOCK_PREFIX = "trapline:recovering-follow-up:"
ENDED = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)
ALIVE = {RqStatus.QUEUED, RqStatus.STARTED, RqStatus.DEFERRED, RqStatus.SCHEDULED}


def _kind_of(state: JobState) -> JobKind | None:
    # records of the release before kinds were written: "<id>-<kind>-<token>"
    parts = state.follow_up.rsplit("-", 2)
    return as_kind(state.follow_up_kind) or (as_kind(parts[1]) if len(parts) == 3 else None)


def rq_job_alive(redis: Redis, rq_id: str) -> bool:
    """Whether an RQ job still waits or runs (a lost or abandoned one does not)."""
    try:
        job = Job.fetch(rq_id, connection=redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in ALIVE


def _clear(redis: Redis, state: JobState, **changes: Any) -> bool:
    return transition(
        redis,
        state.id,
        (JobStatus.FINISHED, *ENDED),
        fence={"follow_up": state.follow_up},
        follow_up="",
        follow_up_kind="",
        follow_up_state="",
        **changes,
    )


def _needs_recovery(redis: Redis, state: JobState, waiting: set[str]) -> bool:
    if has_lease(redis, state.id, follow_up=True):
        return False
    if state.follow_up_state == FollowUpState.RUNNING.value:
        return True  # running without a lease: its model server died
    return state.follow_up not in waiting and not rq_job_alive(redis, state.follow_up)


def recover_follow_ups(redis: Redis, settings: Settings | None = None) -> list[str]:
    """Follow-ups queued again (job ids)."""
    max_attempts = settings.max_attempts if settings else Settings().max_attempts
    waiting = set(job_queue(redis).get_job_ids())
    requeued = []
    for state in unfinished_states(redis):
        if not state.follow_up:
            continue
        if state.status in ENDED:
            _clear(redis, state)
            continue
        if not _needs_recovery(redis, state, waiting):
            continue
        if not redis.set(LOCK_PREFIX + state.id, "1", nx=True, ex=60):
            continue
        try:
            fresh = load_state(redis, state.id)
            if (
                fresh is not None
                and fresh.follow_up == state.follow_up
                and _needs_recovery(redis, fresh, waiting)
                and _requeue(redis, fresh, max_attempts)
            ):
                requeued.append(state.id)
        finally:
            redis.delete(LOCK_PREFIX + state.id)
    return requeued


def _requeue(redis: Redis, state: JobState, max_attempts: int) -> bool:
    kind = _kind_of(state)
    crashed = state.follow_up_state == FollowUpState.RUNNING.value
    crashes = state.follow_up_crashes + (1 if crashed else 0)
    what = kind.value if kind else "follow-up"
    if kind is None or crashes >= max_attempts:
        message = (
            f"The model server stopped {crashes} times while making this job's {what} "
            "(killed, out of memory, or crashed), so it was not tried again. The results "
            "are as they were; start it again from the job page, or ask the administrators."
        )
        if _clear(
            redis, state, follow_up_crashes=crashes, follow_up_error=message, export_progress={}
        ):
            log.error(
                "job %s: its %s was given up after %d deaths of its server", state.id, what, crashes
            )
        return False
    if crashed and not transition(
        redis,
        state.id,
        (JobStatus.FINISHED,),
        fence={"follow_up": state.follow_up},
        follow_up_crashes=crashes,
    ):
        return False
    log.warning(
        "job %s: its %s %s; queued again",
        state.id,
        what,
        f"lost its model server ({crashes} of {max_attempts - 1} allowed)"
        if crashed
        else "was missing from the queue",
    )
    try:
        enqueue_job(redis, state, kind=kind, replaces=state.follow_up)
    except TransitionRefused as exc:
        log.info("job %s: %s not queued again (%s)", state.id, what, exc)
        return False
    return True
