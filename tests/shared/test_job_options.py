"""What the uploader chose is one value: checked once whatever path built it, the same after
a trip through the job's record and its `.job.json`, and read from records of the release that
kept the choices as flat fields."""

from __future__ import annotations

import json

import pytest

from shared.contract import JobState, create_state, load_state, state_key
from shared.options import JobOptions
from shared.storage import new_job_id


def test_bad_values_are_refused_whatever_built_them() -> None:
    for bad in (
        {"frame_interval": 0},
        {"event_gap": -1},
        {"deployment_level": 99},
        {"utc_offset": "+25:00"},
        {"places": {"cam": (95.0, 10.0)}},
    ):
        with pytest.raises(ValueError):
            JobOptions(**bad)
    with pytest.raises(TypeError):
        JobOptions(reports_only="yes")  # type: ignore[arg-type]


def test_defaults_and_choices_survive_the_record_and_the_marker(redis_conn) -> None:
    chosen = JobOptions(
        frame_interval=2.5,
        video_clips=True,
        event_gap=0,
        deployment_level=2,
        sorted_copies=True,
        utc_offset="+2",
        places={"cam1": (-2.5, 36.75)},
        class_set="ena24",
        reports_only=True,
    )
    assert chosen.utc_offset == "+02:00" and chosen.gap == 0 and chosen.level == 2
    assert JobOptions.from_json(json.loads(json.dumps(chosen.to_json()))) == chosen
    state = create_state(redis_conn, JobState(id=new_job_id(), options=chosen))
    loaded = load_state(redis_conn, state.id)
    assert loaded is not None and loaded.options == chosen
    assert JobOptions().gap == 60 and JobOptions().level == 1 and JobOptions().offset == "+00:00"


def test_a_record_of_the_flat_release_reads_the_same(redis_conn) -> None:
    job_id = new_job_id()
    legacy = {
        "id": job_id,
        "status": "queued",
        "total": 3,
        "reports_only": True,
        "event_gap": 120,
        "places": {"cam": [1.5, 2.5]},
        "utc_offset": "+01:00",
    }
    redis_conn.hset(state_key(job_id), mapping={k: json.dumps(v) for k, v in legacy.items()})
    loaded = load_state(redis_conn, job_id)
    assert loaded is not None and loaded.total == 3
    assert loaded.options == JobOptions(
        reports_only=True, event_gap=120, places={"cam": (1.5, 2.5)}, utc_offset="+01:00"
    )


def test_records_of_a_release_without_indexes_are_indexed_once(redis_conn) -> None:
    """A model server starting on an upgraded Redis indexes the records it finds, once."""
    from shared.job_index import ensure_indexes, recent_states, unfinished_states

    queued, finished = new_job_id(), new_job_id()
    for job_id, status, created in ((queued, "queued", 20.0), (finished, "finished", 10.0)):
        fields = {"id": job_id, "status": status, "total": 4, "created_at": created}
        redis_conn.hset(state_key(job_id), mapping={k: json.dumps(v) for k, v in fields.items()})
    assert unfinished_states(redis_conn) == [] and recent_states(redis_conn, 10) == []
    assert ensure_indexes(redis_conn) == 2
    assert [s.id for s in unfinished_states(redis_conn)] == [queued]
    assert [s.id for s in recent_states(redis_conn, 10)] == [queued, finished]
    assert ensure_indexes(redis_conn) == 0  # done: never scanned again
