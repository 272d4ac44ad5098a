"""Follow-ups (export, classify) are queued like detection: the request's fields go in the same
MULTI as the queue entry, so a refused request changes nothing, and each gets its own timeout."""

from __future__ import annotations

import pytest

from shared.contract import (
    JOB_FUNCTIONS,
    FollowUpState,
    JobKind,
    JobState,
    JobStatus,
    TransitionRefused,
    create_state,
    enqueue_job,
    follow_up_timeout,
    job_queue,
    job_timeout,
)
from shared.job_index import unfinished_states
from shared.storage import new_job_id
from tests.processes import state_of


def finished(redis_conn, total: int = 10_000) -> JobState:
    return create_state(
        redis_conn, JobState(id=new_job_id(), status=JobStatus.FINISHED, total=total)
    )


def test_a_refused_second_export_leaves_the_queued_one_unchanged(redis_conn) -> None:
    state = finished(redis_conn)
    enqueue_job(redis_conn, state, kind=JobKind.EXPORT, request={"export_photos": True})
    queued = state_of(redis_conn, state.id)
    assert queued.export_photos is True and queued.follow_up_state == FollowUpState.QUEUED.value
    with pytest.raises(TransitionRefused, match="export is already waiting or running"):
        enqueue_job(redis_conn, state, kind=JobKind.EXPORT, request={"export_photos": False})
    with pytest.raises(TransitionRefused):
        enqueue_job(
            redis_conn, state, kind=JobKind.CLASSIFY, request={"classify": {"set": "other"}}
        )
    after = state_of(redis_conn, state.id)
    assert after.export_photos is True  # the full-zip export still waits as it was asked
    assert after.classify == {} and after.follow_up == queued.follow_up
    assert job_queue(redis_conn).get_job_ids() == [queued.follow_up]


def test_a_follow_up_is_timed_by_its_own_work_and_counted_as_unfinished(redis_conn) -> None:
    state = finished(redis_conn, total=10_000)
    assert [s.id for s in unfinished_states(redis_conn)] == []  # finished, nothing pending
    enqueue_job(redis_conn, state, kind=JobKind.CLASSIFY, request={"classify": {"set": "birds"}})
    record = state_of(redis_conn, state.id)
    job = job_queue(redis_conn).fetch_job(record.follow_up)
    assert job is not None
    assert job.func_name == JOB_FUNCTIONS[JobKind.CLASSIFY]
    assert job.timeout == follow_up_timeout(JobKind.CLASSIFY, 10_000)
    assert job.timeout < job_timeout(10_000) / 5  # not detection's ~7 days
    assert follow_up_timeout(JobKind.EXPORT, 10_000) == 600 + 5 * 10_000
    assert record.classify == {"set": "birds"} and record.follow_up_kind == "classify"
    assert [s.id for s in unfinished_states(redis_conn)] == [state.id]


def test_a_follow_up_needs_a_finished_job(redis_conn) -> None:
    state = create_state(redis_conn, JobState(id=new_job_id(), status=JobStatus.PROCESSING))
    with pytest.raises(TransitionRefused, match="only a finished job"):
        enqueue_job(redis_conn, state, kind=JobKind.EXPORT, request={"export_photos": False})
    assert state_of(redis_conn, state.id).export_photos is True
    assert job_queue(redis_conn).count == 0
