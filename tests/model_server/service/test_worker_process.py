"""The real `trapline-worker` process: readiness, two servers on one queue, release on SIGTERM."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from shared.contract import (
    NOTICE_KEY,
    JobState,
    JobStatus,
    enqueue_job,
)
from shared.model_servers import live_count
from shared.storage import Storage, new_job_id
from tests.images import jpeg_bytes, red_patch_image
from tests.processes import state_of, wait_for

pytestmark = pytest.mark.slow


def queue_job(redis_conn, settings, images: int, size: tuple[int, int] = (160, 120)) -> str:
    store = Storage(settings.data_dir)
    store.ensure()
    job_id = new_job_id()
    folder = store.upload_dir(job_id)
    folder.mkdir(parents=True)
    for i in range(images):
        (folder / f"img{i:03d}.jpg").write_bytes(
            jpeg_bytes(red_patch_image(size, (5 + i % 20, 5, 40 + i % 20, 40)))
        )
    enqueue_job(redis_conn, JobState(id=job_id, email="r@example.org", total=images))
    return job_id


def live_servers(redis_conn) -> int:
    return live_count(redis_conn)


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_two_model_servers_share_one_queue_and_never_the_same_job(
    workers, redis_conn, settings
) -> None:
    workers.start()
    workers.start()
    wait_for(lambda: live_servers(redis_conn) == 2, what="two ready model servers")
    job_ids = [queue_job(redis_conn, settings, 2) for _ in range(8)]
    wait_for(
        lambda: all(state_of(redis_conn, j).status is JobStatus.FINISHED for j in job_ids),
        what="all jobs finished",
    )
    workers.stop_all()
    logs = workers.log(0) + workers.log(1)
    for job_id in job_ids:
        assert logs.count(f"job {job_id}: started") == 1
        # every line logged during a job carries its id, for `journalctl -u ... | grep <id>`
        assert f"job={job_id} model_server.service.jobs: job {job_id}: finished" in logs
    assert "job " in workers.log(0) and "job " in workers.log(1), "both servers took jobs"


def test_waits_for_a_model_and_says_so_then_starts(
    workers, redis_conn, settings, tmp_path: Path
) -> None:
    model = tmp_path / "models" / "md_test.pb"
    proc = workers.start("--model-poll", "0.3", model=model)
    notice = wait_for(lambda: redis_conn.get(NOTICE_KEY), what="the no-model notice")
    assert str(model).encode() in notice and b"trapline-models download" in notice
    assert live_servers(redis_conn) == 0  # not ready without a model: it never pretends
    job_id = queue_job(redis_conn, settings, 1)
    seen = workers.log(0).count("no usable detector model")
    # two more model checks after the job arrived (events, not a sleep): it stays queued
    wait_for(
        lambda: workers.log(0).count("no usable detector model") >= seen + 2,
        timeout=30,
        what="two more checks for the model",
    )
    assert state_of(redis_conn, job_id).status is JobStatus.QUEUED
    model.parent.mkdir()
    shutil.copyfile(settings.model_path, model)
    wait_for(lambda: state_of(redis_conn, job_id).status is JobStatus.FINISHED, what="job done")
    assert live_servers(redis_conn) == 1 and proc.poll() is None


def test_sigterm_releases_the_running_job_which_resumes_elsewhere(
    workers, redis_conn, settings
) -> None:
    first = workers.start()
    wait_for(lambda: live_servers(redis_conn) == 1, what="ready model server")
    job_id = queue_job(redis_conn, settings, 60, size=(1600, 1200))
    wait_for(lambda: state_of(redis_conn, job_id).processed >= 3, what="some progress")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    state = state_of(redis_conn, job_id)
    assert state.status is JobStatus.QUEUED and state.attempt == 2
    assert 3 <= state.processed < 60
    assert "released by a stopping model server" in workers.log(0)
    second = workers.start("--burst")
    assert second.wait(timeout=120) == 0
    final = state_of(redis_conn, job_id)
    assert final.status is JobStatus.FINISHED and final.processed == 60
    assert f"job={job_id} model_server.pipeline.batch: resuming:" in workers.log(1)
    import json
    import zipfile

    with zipfile.ZipFile(Storage(settings.data_dir).result_zip(job_id)) as z:
        files = [im["file"] for im in json.loads(z.read("detections.json"))["images"]]
    assert sorted(files) == [f"img{i:03d}.jpg" for i in range(60)]  # every image exactly once
