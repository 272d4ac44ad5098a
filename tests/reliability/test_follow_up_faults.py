"""Follow-ups survive the death of their model server as detection does: kill -9 in the middle
of an export or of a classify, and the next server makes it, once; a running classify whose
server is gone is queued again as the same classify; a stale server's writes are fenced off; the
cleanup keeps a job whose follow-up waits."""

from __future__ import annotations

import signal
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from model_server.service.follow_up_recovery import recover_follow_ups
from model_server.species.embedder import load_embedder
from shared.cleanup import Cleaner
from shared.contract import (
    FollowUpState,
    JobKind,
    JobState,
    JobStatus,
    create_state,
    enqueue_job,
    job_queue,
    transition,
)
from shared.leases import has_lease
from shared.storage import Storage, new_job_id
from shared.store import open_configured_store
from shared.store.class_sets import Example, add_examples, bind_embedder, create_set
from shared.store.review import ReviewAction, apply
from shared.store.schema import detections, media
from shared.store.species_data import classification_of
from tests.conftest import MODELS
from tests.images import red_patch_image
from tests.processes import state_of, wait_for
from tests.reliability.test_faults import LEASE, queue_job

pytestmark = pytest.mark.slow
PHOTOS = 60


def reject_every_box(settings, job_id: str) -> int:
    """Every copy is then drawn again by the export (the slow path), which gives the test a
    window of seconds to kill the server in."""
    engine = open_configured_store(settings)
    try:
        with engine.connect() as conn:
            boxes = conn.execute(
                select(detections.c.id).join(media).where(media.c.job_id == job_id)
            ).scalars()
            ids = list(boxes)
        now = datetime(2026, 6, 1, tzinfo=UTC)
        for box in ids:
            apply(engine, job_id, ReviewAction("reject", "tester", detection_id=box), now)
        return len(ids)
    finally:
        engine.dispose()


def test_kill_9_mid_export_is_made_once_by_the_next_server(workers, redis_conn, settings) -> None:
    job_id = queue_job(redis_conn, settings, PHOTOS, size=(2400, 1800))
    assert workers.start("--burst", **LEASE).wait(timeout=300) == 0
    assert state_of(redis_conn, job_id).status is JobStatus.FINISHED
    assert reject_every_box(settings, job_id) >= PHOTOS
    state = state_of(redis_conn, job_id)
    enqueue_job(redis_conn, state, kind=JobKind.EXPORT, request={"export_photos": True})
    first_rq_id = state_of(redis_conn, job_id).follow_up

    doomed = workers.start(**LEASE)
    # stopped the moment its record says the export runs (redrawing 60 copies then takes over a
    # second here), so the kill lands mid-export and the test can check that it did
    wait_for(
        lambda: state_of(redis_conn, job_id).follow_up_state == FollowUpState.RUNNING.value,
        timeout=180,
        what="the export under way",
    )
    doomed.send_signal(signal.SIGSTOP)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    killed = state_of(redis_conn, job_id)
    assert killed.follow_up == first_rq_id and killed.exported_at is None  # died mid-export
    assert killed.follow_up_state == FollowUpState.RUNNING.value
    wait_for(
        lambda: not has_lease(redis_conn, job_id, follow_up=True), timeout=10, what="lease expiry"
    )

    workers.start("--burst", **LEASE)
    wait_for(lambda: state_of(redis_conn, job_id).exported_at, timeout=300, what="the export")
    wait_for(lambda: workers.procs[-1][0].poll() is not None, timeout=60, what="burst exit")
    done = state_of(redis_conn, job_id)
    assert done.follow_up == "" and done.follow_up_state == "" and done.export_progress == {}
    assert done.follow_up_crashes == 1 and done.follow_up_error == ""
    log = workers.log(2)
    assert f"job {job_id}: its export lost its model server (1 of 2 allowed); queued again" in log
    assert log.count(f"job {job_id}: exported again, {PHOTOS} images") == 1  # once
    with zipfile.ZipFile(Storage(settings.data_dir).result_zip(job_id)) as z:
        copies = [n for n in z.namelist() if n.endswith(".jpg")]
        assert z.testzip() is None
    assert len(copies) == PHOTOS


EMBEDDER = MODELS / "yolox_nano.onnx"


def teach_patches(settings) -> None:
    """A class set "patches" with two classes embedded by the real YOLOX-Nano embedder (what it
    names the boxes is not this test's question: that every box is classified, once, is)."""
    embedder = load_embedder(EMBEDDER)
    crops = {
        "red patch": [red_patch_image((160, 120), (20 + i, 15, 140, 105 - i)) for i in range(5)],
        "grey field": [red_patch_image((160, 120), (0, 0, 1 + i, 1)) for i in range(5)],
    }
    engine = open_configured_store(settings)
    try:
        now = datetime(2026, 6, 1, tzinfo=UTC)
        target = create_set(engine, "patches", now)
        bind_embedder(engine, target.id, embedder.name)
        examples = [
            Example(species, vector, crop=f"{species}-{i}.jpg", source="test")
            for species, images in crops.items()
            for i, vector in enumerate(embedder.embed(images))
        ]
        assert add_examples(engine, target.id, examples, now) == 10
    finally:
        engine.dispose()


def test_kill_9_mid_classify_is_classified_once_by_the_next_server(
    workers, redis_conn, settings
) -> None:
    species = {**LEASE, "TRAPLINE_SPECIES_EMBEDDER": str(EMBEDDER)}
    job_id = queue_job(redis_conn, settings, PHOTOS)
    assert workers.start("--burst", **species).wait(timeout=300) == 0
    assert state_of(redis_conn, job_id).status is JobStatus.FINISHED
    teach_patches(settings)
    state = state_of(redis_conn, job_id)
    enqueue_job(redis_conn, state, kind=JobKind.CLASSIFY, request={"classify": {"set": "patches"}})
    first_rq_id = state_of(redis_conn, job_id).follow_up

    doomed = workers.start(**species)
    # stopped the moment its record says the classify began: the embedder still loads and 60
    # boxes are still to embed, so the kill lands before the classify is recorded
    wait_for(
        lambda: state_of(redis_conn, job_id).export_progress.get("stage") == "classify",
        timeout=180,
        what="the classify under way",
    )
    doomed.send_signal(signal.SIGSTOP)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    killed = state_of(redis_conn, job_id)
    assert killed.follow_up == first_rq_id
    assert killed.follow_up_state == FollowUpState.RUNNING.value
    engine = open_configured_store(settings)
    try:
        assert classification_of(engine, job_id) == {}  # died mid-classify
        wait_for(
            lambda: not has_lease(redis_conn, job_id, follow_up=True),
            timeout=10,
            what="lease expiry",
        )

        workers.start("--burst", **species)
        wait_for(lambda: classification_of(engine, job_id), timeout=300, what="the classify")
        wait_for(lambda: workers.procs[-1][0].poll() is not None, timeout=60, what="burst exit")
        done = state_of(redis_conn, job_id)
        assert done.follow_up == "" and done.follow_up_state == "" and done.classify == {}
        assert done.follow_up_crashes == 1 and done.follow_up_error == ""
        info = classification_of(engine, job_id)
        assert info["set"] == "patches" and info["boxes"] >= PHOTOS
        with engine.connect() as conn:
            named = conn.execute(
                select(detections.c.suggested_species)
                .join(media)
                .where(media.c.job_id == job_id, detections.c.suggested_species.is_not(None))
            ).scalars()
            suggestions = list(named)
        assert len(suggestions) == info["boxes"]
    finally:
        engine.dispose()
    log = workers.log(2)
    assert f"job {job_id}: its classify lost its model server (1 of 2 allowed); queued again" in log
    assert log.count(f"job {job_id}: {info['boxes']} animal boxes classified") == 1  # once
    assert "animal boxes classified" not in workers.log(1)


@pytest.mark.parametrize(
    ("kind", "request_"),
    [
        (JobKind.CLASSIFY, {"classify": {"set": "birds", "learn": True, "unreviewed_only": True}}),
        (JobKind.EVALUATE, {"truth": "5f1c0a9e2b7d4c13"}),  # the stored truth files' folder
    ],
)
def test_a_running_follow_up_without_its_server_is_queued_again_and_the_stale_one_is_fenced(
    redis_conn, kind: JobKind, request_: dict
) -> None:
    state = create_state(redis_conn, JobState(id=new_job_id(), status=JobStatus.FINISHED, total=12))
    enqueue_job(redis_conn, state, kind=kind, request=request_)
    stale = state_of(redis_conn, state.id).follow_up
    job_queue(redis_conn).remove(stale)  # a server took it from the queue ...
    fence = {"follow_up": stale}
    assert transition(  # ... said it runs, and died without a lease left
        redis_conn,
        state.id,
        (JobStatus.FINISHED,),
        fence=fence,
        follow_up_state=FollowUpState.RUNNING,
    )
    assert recover_follow_ups(redis_conn) == [state.id]
    again = state_of(redis_conn, state.id)
    assert again.follow_up == f"{state.id}-{kind.value}-2" and again.follow_up_kind == kind.value
    assert all(getattr(again, name) == value for name, value in request_.items())
    assert again.follow_up_crashes == 1
    assert again.export_progress == {"stage": "queued", "done": 0}  # not the dead one's
    assert job_queue(redis_conn).get_job_ids() == [again.follow_up]
    assert recover_follow_ups(redis_conn) == []  # queued once, not on every sweep
    # the old server wakes: every write it tries is refused, the mark is not its to clear
    assert not transition(
        redis_conn, state.id, (JobStatus.FINISHED,), fence=fence, export_progress={"done": 9}
    )
    assert not transition(redis_conn, state.id, (JobStatus.FINISHED,), fence=fence, follow_up="")
    assert state_of(redis_conn, state.id).follow_up == again.follow_up


def test_a_follow_up_given_up_after_the_attempt_cap_says_why(redis_conn) -> None:
    state = create_state(
        redis_conn,
        JobState(id=new_job_id(), status=JobStatus.FINISHED, total=3, follow_up_crashes=2),
    )
    enqueue_job(redis_conn, state, kind=JobKind.EXPORT, request={"export_photos": False})
    record = state_of(redis_conn, state.id)
    job_queue(redis_conn).remove(record.follow_up)
    transition(
        redis_conn,
        state.id,
        (JobStatus.FINISHED,),
        fence={"follow_up": record.follow_up},
        follow_up_state=FollowUpState.RUNNING,
        follow_up_crashes=2,
    )
    assert recover_follow_ups(redis_conn) == []
    given_up = state_of(redis_conn, state.id)
    assert given_up.follow_up == "" and "stopped 3 times" in given_up.follow_up_error
    assert job_queue(redis_conn).count == 0


def test_cleanup_keeps_the_results_of_a_job_whose_follow_up_waits(redis_conn, settings) -> None:
    storage = Storage(settings.data_dir)
    storage.ensure()
    state = create_state(redis_conn, JobState(id=new_job_id(), status=JobStatus.FINISHED, total=1))
    zip_path = storage.result_zip(state.id)
    zip_path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    enqueue_job(redis_conn, state, kind=JobKind.EXPORT, request={"export_photos": True})
    later = zip_path.stat().st_mtime + 30 * 86400
    report = Cleaner(
        settings, redis_conn, dry_run=False, results_days=14, uploads_days=14, now=later
    ).run()
    assert zip_path.exists() and report.kept_active == 1
    assert state_of(redis_conn, state.id).status is JobStatus.FINISHED
    transition(  # the export ends: the next cleanup removes the results, and nothing can queue
        redis_conn, state.id, (JobStatus.FINISHED,), follow_up="", follow_up_state=""
    )
    Cleaner(settings, redis_conn, dry_run=False, results_days=14, uploads_days=14, now=later).run()
    assert not zip_path.exists()
    assert state_of(redis_conn, state.id).status is JobStatus.EXPIRED
