"""A large detect job split into chunks (`shared.chunks`), on one real RQ worker in this process:
the chunked run must give what the same job run whole gives, store each file once and leave
its queued chunks with nothing to do."""

from __future__ import annotations

import json
import logging
import random
import zipfile
from dataclasses import replace

import pytest
from rq.group import Group
from rq.job import Job
from rq.serializers import JSONSerializer

from shared import chunks
from shared.chunks import ChunkKeys
from shared.contract import JobState, JobStatus, enqueue_job, job_queue
from shared.storage import Storage, new_job_id
from shared.store import open_configured_store
from shared.store.writes import done_paths
from tests.images import jpeg_bytes, red_patch_image
from tests.processes import state_of


def queue_photos(redis_conn, settings, count: int, seed: int = 7) -> str:
    """A job of `count` photos, each with a red patch somewhere (the test model's animal)."""
    store = Storage(settings.data_dir)
    store.ensure()
    job_id = new_job_id()
    folder = store.upload_dir(job_id)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    for i in range(count):
        x, y = rng.randrange(0, 500), rng.randrange(0, 350)
        image = red_patch_image((640, 480), (x, y, x + 120, y + 100))
        (folder / f"cam/img{i:03d}.jpg").parent.mkdir(exist_ok=True)
        (folder / f"cam/img{i:03d}.jpg").write_bytes(jpeg_bytes(image))
    enqueue_job(redis_conn, JobState(id=job_id, email="r@example.org", total=count))
    return job_id


def detections(settings, job_id: str) -> list[dict]:
    with zipfile.ZipFile(Storage(settings.data_dir).result_zip(job_id)) as z:
        return json.loads(z.read("detections.json"))["images"]


def test_split_keeps_order_and_weighs_videos() -> None:
    files = [(0, "a.jpg", 1), (1, "b.mp4", 3), (2, "c.jpg", 1), (3, "d.jpg", 1), (4, "e.mp4", 9)]
    assert chunks.split(files, 3) == [
        [(0, "a.jpg")],
        [(1, "b.mp4")],
        [(2, "c.jpg"), (3, "d.jpg")],
        [(4, "e.mp4")],  # heavier than a chunk: a chunk of its own
    ]
    assert chunks.split(files, 100) == [[(n, path) for n, path, _ in files]]
    assert chunks.split([], 5) == []


@pytest.fixture
def chunked(settings):
    return replace(settings, chunk_images=3)


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_a_chunked_job_gives_what_the_whole_job_gives(
    chunked, settings, redis_conn, run_worker, caplog: pytest.LogCaptureFixture
) -> None:
    from model_server.service import jobs

    caplog.set_level(logging.INFO)
    job_id = queue_photos(redis_conn, settings, 8)
    run_worker()  # installs the runtime with `settings`; the chunked run swaps them below
    reference = detections(settings, job_id)
    assert [image["file"] for image in reference] == [f"cam/img{i:03d}.jpg" for i in range(8)]
    assert "in 3 chunks" not in caplog.text

    jobs.install(jobs.runtime().detector, chunked, jobs.runtime().store)
    chunked_job = queue_photos(redis_conn, settings, 8)
    run_worker()

    assert state_of(redis_conn, chunked_job).status is JobStatus.FINISHED
    assert f"job {chunked_job}: 8 files to detect, in 3 chunks of up to 3" in caplog.text
    assert detections(settings, chunked_job) == reference  # each file once, the same results
    engine = open_configured_store(settings)
    try:
        assert len(done_paths(engine, chunked_job)) == 8
    finally:
        engine.dispose()
    # chunks 1 and 2 were queued as one RQ group; alone here, the coordinator ran them itself
    # and the queued ones found nothing left to do
    group = Group(redis_conn, f"{chunked_job}-1-chunks")
    ids = sorted(member.decode() for member in redis_conn.smembers(group.key))
    ran = [job for job in Job.fetch_many(ids, redis_conn, serializer=JSONSerializer) if job]
    assert sorted(job.args[2] for job in ran) == [1, 2]
    assert all(job.return_value() == {"status": "skipped"} for job in ran)
    assert not redis_conn.exists(*ChunkKeys(chunked_job, 1).all)  # the plan is forgotten
    assert job_queue(redis_conn).count == 0
