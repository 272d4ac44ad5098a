"""Faults that really happen, done for real: kill -9 of the model server, Redis going away,
an unwritable results folder, a job timeout, one image crashing the detector."""

from __future__ import annotations

import json
import os
import random
import signal
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from redis import Redis
from rq.serializers import JSONSerializer

from model_server.outputs.reports import REPORT_FILES
from shared.contract import (
    JOB_FUNCTION,
    JobState,
    JobStatus,
    enqueue_job,
    job_queue,
)
from shared.leases import has_lease
from shared.model_servers import live_count
from shared.storage import Storage, new_job_id
from shared.store import open_configured_store
from shared.store.writes import done_paths
from tests.conftest import REPO, RedisServer, open_site
from tests.images import jpeg_bytes, red_patch_image
from tests.processes import state_of, wait_for
from tests.videos import red_patch_clip
from tests.web.helpers import SCRIPT, form, photo

pytestmark = pytest.mark.slow
LEASE = {"TRAPLINE_LEASE_SECONDS": "2"}
BATCH = {"TRAPLINE_STORE_BATCH_IMAGES": "4"}
# The kill point is drawn from this seed (printed with the test's output); set
# TRAPLINE_TEST_SEED to replay another run's choice.
SEED = int(os.environ.get("TRAPLINE_TEST_SEED", "20261124"))


def queue_job(
    redis_conn,
    settings,
    images: int,
    size=(1600, 1200),
    job_id: str | None = None,
    noisy: bool = False,
) -> str:
    store = Storage(settings.data_dir)
    store.ensure()
    job_id = job_id or new_job_id()
    folder = store.upload_dir(job_id)
    folder.mkdir(parents=True)
    rng = random.Random(7)
    for i in range(images):
        w, h = size[0] // 10, size[1] // 10
        x, y = rng.randrange(0, size[0] - w), rng.randrange(0, size[1] - h)
        image = red_patch_image(size, (x, y, x + w, y + h))
        if noisy:  # noise does not compress: big files, so writing the zip takes a while
            noise = np.random.default_rng(i).integers(0, 120, (size[1], size[0], 3), dtype=np.uint8)
            image = Image.fromarray(noise)
            image.paste((255, 0, 0), (x, y, x + w, y + h))
        (folder / f"img{i:03d}.jpg").write_bytes(jpeg_bytes(image))
    enqueue_job(redis_conn, JobState(id=job_id, email="r@example.org", total=images))
    return job_id


def result_of(settings, job_id: str) -> tuple[list[dict], dict[str, bytes]]:
    with zipfile.ZipFile(Storage(settings.data_dir).result_zip(job_id)) as z:
        images = json.loads(z.read("detections.json"))["images"]
        pictures = {n: z.read(n) for n in z.namelist() if n.endswith(".jpg")}
    return images, pictures


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_kill_9_mid_job_resumes_and_equals_an_uninterrupted_run(
    workers, redis_conn, settings
) -> None:
    """Results are stored 4 images at a time here, so the kill lands between commits, after
    some: the resumed run must store each image once and give what an uninterrupted run gives.

    The kill point is watched in the database, not in the Redis progress count: progress is
    written at most twice a second, so on a fast machine it can trail the stored results by a
    dozen images (CI once saw 8 in Redis and 20 stored at the kill)."""
    killed_job = queue_job(redis_conn, settings, 40, size=(2400, 1800))
    first = workers.start(**LEASE, **BATCH)
    stop_at = random.Random(SEED).randint(3, 25)
    print(f"kill point: image {stop_at} (TRAPLINE_TEST_SEED={SEED})")
    wait_for(lambda: state_of(redis_conn, killed_job).processed >= 1, what="the job under way")
    engine = open_configured_store(settings)  # opened once the server has migrated it
    try:
        wait_for(lambda: len(done_paths(engine, killed_job)) >= stop_at, what=f"{stop_at} images")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert state_of(redis_conn, killed_job).status is JobStatus.PROCESSING  # no goodbye
        wait_for(
            lambda: not has_lease(redis_conn, killed_job),
            timeout=10,
            what="lease expiry",
        )
        stored = len(done_paths(engine, killed_job))
        print(f"stored at the kill: {stored}")
    finally:
        engine.dispose()
    assert stop_at <= stored < 40 and stored % 4 == 0  # whole transactions, and work left
    second = workers.start("--burst", **LEASE, **BATCH)
    assert second.wait(timeout=180) == 0
    assert state_of(redis_conn, killed_job).status is JobStatus.FINISHED
    log = workers.log(1)
    assert f"job {killed_job}: its model server stopped answering" in log
    assert f"resuming: {stored} of 40 images already stored" in log

    reference = queue_job(redis_conn, settings, 40, size=(2400, 1800))  # same photos, uninterrupted
    assert workers.start("--burst", **LEASE).wait(timeout=180) == 0
    got, got_pictures = result_of(settings, killed_job)
    want, want_pictures = result_of(settings, reference)
    assert [im["file"] for im in got] == [f"img{i:03d}.jpg" for i in range(40)]  # each once
    assert got == want
    assert got_pictures == want_pictures


def test_kill_9_while_writing_the_zip(workers, redis_conn, settings) -> None:
    job_id = queue_job(redis_conn, settings, 24, size=(2400, 1800), noisy=True)
    store = Storage(settings.data_dir)
    partial = store.results_root / f".{job_id}.zip.partial"
    first = workers.start(**LEASE)
    wait_for(lambda: partial.exists(), timeout=180, what="the zip being written")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert not store.result_zip(job_id).exists()  # no half-written zip where a download finds it
    wait_for(lambda: not has_lease(redis_conn, job_id), timeout=10, what="lease expiry")
    assert workers.start("--burst", **LEASE).wait(timeout=180) == 0
    assert state_of(redis_conn, job_id).status is JobStatus.FINISHED
    images, _ = result_of(settings, job_id)
    assert len(images) == 24 and not partial.exists()


def test_restart_while_jobs_wait_loses_nothing(workers, redis_conn, settings) -> None:
    """A restart (SIGTERM, as systemd does) while one job runs and three wait behind it."""
    running = queue_job(redis_conn, settings, 30, size=(2400, 1800))
    waiting = [queue_job(redis_conn, settings, 2, size=(200, 150)) for _ in range(3)]
    first = workers.start(**LEASE)
    wait_for(
        lambda: state_of(redis_conn, running).processed >= 2,
        timeout=120,
        what="the first job under way",
    )
    assert job_queue(redis_conn).count == 3  # really waiting while the server restarts
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    assert job_queue(redis_conn).count == 4  # the running job went back, at the front
    assert job_queue(redis_conn).get_job_ids()[0].startswith(running)
    assert workers.start("--burst", **LEASE).wait(timeout=240) == 0
    for job_id in [running, *waiting]:
        final = state_of(redis_conn, job_id)
        assert final.status is JobStatus.FINISHED and final.processed == final.total
    images, _ = result_of(settings, running)
    assert [im["file"] for im in images] == [f"img{i:03d}.jpg" for i in range(30)]


def _unit_command() -> list[str]:
    """The model server unit's ExecStart arguments, with systemd's %H and %i filled in."""
    import socket

    unit = (REPO / "deploy" / "systemd" / "trapline-worker@.service").read_text()
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    binary, *args = line.removeprefix("ExecStart=").split()
    assert binary.endswith("/trapline-worker")
    return [a.replace("%H", socket.gethostname()).replace("%i", "1") for a in args]


def test_a_model_server_restarted_right_after_kill_9_starts_and_works(
    workers, redis_conn, settings
) -> None:
    """systemd restarts a killed (OOM, kill -9) server with the same command line at once;
    RQ must not refuse it because its dead predecessor's registration is still in Redis."""
    args = _unit_command()
    first = workers.start(*args, **LEASE)
    wait_for(lambda: live_count(redis_conn), what="ready")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    second = workers.start(*args, **LEASE)
    job_id = queue_job(redis_conn, settings, 2, size=(200, 150))
    wait_for(
        lambda: state_of(redis_conn, job_id).status is JobStatus.FINISHED,
        timeout=90,
        what="the restarted server's job",
    )
    assert second.poll() is None
    assert "There exists an active worker" not in workers.log(1)


@pytest.fixture
def own_redis(tmp_path: Path):
    """A Redis with the production persistence settings that the test can stop and start."""
    server = RedisServer(tmp_path / "redis-own")
    server.folder.mkdir()
    conf = REPO / "deploy" / "redis" / "trapline.conf"
    server.start("--include", str(conf))
    yield server, conf
    server.stop()


def test_upload_while_redis_is_down_is_kept_and_queued_later(
    settings, own_redis, workers, tmp_path: Path
) -> None:
    """...with the uploader's video and Camtrap DP choices, and a video decoded by the model
    server process's own decoder workers."""
    server, conf = own_redis
    site = settings.with_overrides(redis_url=server.url)
    client = open_site(site).test_client()
    server.stop()
    clip = red_patch_clip(tmp_path / "clip.mp4", seconds=6, fps=5, patch_frames=range(10, 21))
    response = client.post(
        "/api/jobs",
        data={
            **form(
                files=[(photo(1), "a.jpg"), (photo(2), "b.jpg"), (clip.read_bytes(), "clip.mp4")]
            ),
            "frame_interval": "2",
            "video_clips": "on",
            "utc_offset": "-03:00",
            "deployments": "(top level),-22.9,-43.2\n",
        },
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 503
    body = response.get_json()
    assert "saved" in body["error"] and "queued automatically" in body["error"]
    job_id = body["id"]
    assert (Storage(settings.data_dir).upload_dir(job_id) / "a.jpg").is_file()
    assert client.get("/healthz").status_code == 503
    server.start("--include", str(conf))
    assert workers.start("--burst", redis_url=server.url).wait(timeout=120) == 0
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["status"] == "finished" and status["total"] == 3
    found = {m["path"]: m for m in client.get(f"/api/jobs/{job_id}/media").get_json()["media"]}
    assert [f["number"] for f in found["clip.mp4"]["video"]["frames"]] == [0, 10, 20, 29]
    with zipfile.ZipFile(Storage(settings.data_dir).result_zip(job_id)) as z:
        assert "clip.mp4.boxes.mp4" in z.namelist()
        package = json.loads(z.read("camtrap-dp/datapackage.json"))
        place = z.read("camtrap-dp/deployments.csv").decode().splitlines()[1].split(",")[3:5]
    assert package["trapline"]["utcOffset"] == "-03:00" and place == ["-22.9", "-43.2"]


def test_model_server_rides_out_a_redis_outage(settings, own_redis, workers) -> None:
    import time

    server, conf = own_redis
    proc = workers.start(redis_url=server.url, **LEASE)
    client = Redis.from_url(server.url)
    wait_for(lambda: live_count(client), what="ready")
    server.stop()
    cpu_before, wall_before = _cpu_seconds(proc.pid), time.monotonic()
    # events, not a sleep: five missed heartbeats (one every 0.67 s with a 2 s lease)
    try:
        wait_for(
            lambda: workers.log(0).count("Redis is unreachable") >= 5,
            timeout=60,
            what="the server noticing the outage",
        )
    except AssertionError:
        # once in CI the notices did not come: say what the server wrote, to see why
        raise AssertionError(f"5 outage notices expected; its log:\n{workers.log(0)[-4000:]}")
    assert proc.poll() is None  # did not exit
    spent = _cpu_seconds(proc.pid) - cpu_before
    assert spent < 0.25 * (time.monotonic() - wall_before) + 0.3  # and did not spin
    server.start("--include", str(conf))
    client = Redis.from_url(server.url)
    job_id = queue_job(client, settings, 2, size=(200, 150))
    wait_for(
        lambda: state_of(client, job_id).status is JobStatus.FINISHED,
        timeout=90,
        what="job after Redis came back",
    )


def _cpu_seconds(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_unwritable_results_folder_fails_clearly_and_keeps_the_upload(
    client, run_worker, settings, redis_conn
) -> None:
    store = Storage(settings.data_dir)
    response = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    job_id = response.get_json()["id"]
    store.results_root.rmdir()
    store.results_root.write_text(
        "not a folder"
    )  # (tests run as root: permissions would not stop it)
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["status"] == "failed" and "could not write the result zip" in status["error"]
    assert (store.upload_dir(job_id) / "a.jpg").is_file()
    assert (
        client.get(f"/download/{job_id}", headers={"Accept": "application/json"}).status_code == 409
    )


def test_job_timeout_is_recorded_and_the_upload_kept(settings, redis_conn, tmp_path: Path) -> None:
    from benchmarks.mdlike_graph import build_mdlike_graph
    from model_server.detectors import load_detector
    from model_server.service import jobs
    from model_server.service.worker import TraplineWorker
    from shared.store import open_configured_store

    job_id = queue_job(redis_conn, settings, 6, size=(400, 300))
    queue = job_queue(redis_conn)
    queue.empty()
    state = state_of(redis_conn, job_id)
    queue.enqueue(JOB_FUNCTION, args=(job_id,), job_id=state.rq_id, job_timeout=1)
    jobs.install(
        load_detector(build_mdlike_graph(tmp_path / "slow.pb")),
        settings,
        open_configured_store(settings),
    )
    TraplineWorker([queue], connection=redis_conn, serializer=JSONSerializer).work(burst=True)
    final = state_of(redis_conn, job_id)
    assert final.status is JobStatus.FAILED and "took longer than" in final.error
    assert Storage(settings.data_dir).upload_dir(job_id).is_dir()


def test_a_crash_inside_one_images_inference_is_one_error_row(
    tmp_path: Path, red_patch_model: Path
) -> None:
    from model_server.detectors import load_detector
    from model_server.pipeline.batch import run_batch
    from model_server.pipeline.options import PipelineOptions
    from shared.inputs import collect_inputs

    real = load_detector(red_patch_model)

    class Flaky:
        info = real.info

        def detect(self, image: np.ndarray, source: str = ""):
            if source == "b.jpg":
                raise RuntimeError("CUDA error: an illegal memory access was encountered")
            return real.detect(image, source)

        def close(self) -> None:
            real.close()

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (folder / name).write_bytes(photo())
    result = run_batch(
        collect_inputs([folder]), Flaky(), tmp_path / "work", tmp_path / "r.zip", PipelineOptions()
    )
    with zipfile.ZipFile(tmp_path / "r.zip") as z:
        images = {im["file"]: im for im in json.loads(z.read("detections.json"))["images"]}
    assert (
        "the detector failed on this image (RuntimeError: CUDA error" in images["b.jpg"]["failure"]
    )
    assert images["a.jpg"]["detections"] and images["c.jpg"]["detections"]
    assert result.tally.errors == 1


def _each_once(settings, job_id: str, count: int) -> None:
    images, _ = result_of(settings, job_id)
    assert [im["file"] for im in images] == [f"img{i:03d}.jpg" for i in range(count)]
    with zipfile.ZipFile(Storage(settings.data_dir).result_zip(job_id)) as z:
        names = z.namelist()
    assert len(names) == len(set(names)) == count + len(REPORT_FILES)  # photos and reports


def test_a_stalled_server_writes_nothing_once_another_took_its_job(
    workers, redis_conn, settings
) -> None:
    """SIGSTOP past the lease (a stall, a partition), another server takes the job over, then
    SIGCONT: the first server's late writes are refused and logged, the result has each image
    once."""
    job_id = queue_job(redis_conn, settings, 30, size=(2400, 1800))
    first = workers.start(**LEASE)
    wait_for(lambda: state_of(redis_conn, job_id).processed >= 4, what="4 images")
    first.send_signal(signal.SIGSTOP)
    wait_for(lambda: not has_lease(redis_conn, job_id), timeout=10, what="lease expiry")
    second = workers.start(**LEASE)
    wait_for(
        lambda: state_of(redis_conn, job_id).attempt == 2,
        timeout=60,
        what="the second server taking the job",
    )
    first.send_signal(signal.SIGCONT)
    wait_for(
        lambda: state_of(redis_conn, job_id).status is JobStatus.FINISHED,
        timeout=240,
        what="the job finished by the second server",
    )
    wait_for(
        lambda: "writes nothing more" in workers.log(0) or "late write refused" in workers.log(0),
        timeout=60,
        what="the first server letting go",
    )
    assert first.poll() is None and second.poll() is None  # both still serving
    _each_once(settings, job_id, 30)
    # the record says finished a moment before the server logs it: wait for the line itself
    wait_for(
        lambda: f"job {job_id}: finished" in workers.log(1), timeout=30, what="the finished line"
    )
    assert f"job {job_id}: finished" not in workers.log(0)
    # and the first server's job thread has ended: it still serves (a stop request is heard)
    wait_for(lambda: "writes nothing more" in workers.log(0), timeout=30, what="its job let go")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0


def test_redis_down_as_a_job_ends_the_same_server_finishes_it(settings, own_redis, workers) -> None:
    server, conf = own_redis
    client = Redis.from_url(server.url)
    # noisy photos: big files, slow to decode and encode, so the job is still running when
    # Redis goes (a fast job could finish between two progress writes)
    job_id = queue_job(client, settings, 30, size=(2400, 1800), noisy=True)
    proc = workers.start(redis_url=server.url, **LEASE)
    wait_for(lambda: state_of(client, job_id).processed >= 20, timeout=180, what="20 images")
    server.stop()
    assert "finished" not in workers.log(0)
    wait_for(
        lambda: (
            "pausing until it answers" in workers.log(0)
            or "Redis unreachable while recording" in workers.log(0)
        ),
        timeout=90,
        what="the server waiting for Redis",
    )
    assert proc.poll() is None  # it did not exit
    server.start("--include", str(conf))
    client = Redis.from_url(server.url)
    wait_for(
        lambda: state_of(client, job_id).status is JobStatus.FINISHED,
        timeout=120,
        what="the job finished after Redis came back",
    )
    assert proc.poll() is None
    _each_once(settings, job_id, 30)


def test_a_job_that_keeps_killing_its_server_is_failed_naming_the_file(
    workers, redis_conn, settings
) -> None:
    """Each time the server has the poison file in hand it dies (as the OOM killer would do):
    after three deaths the job fails with a message naming it, and the upload stays."""
    job_id = queue_job(redis_conn, settings, 24, size=(1600, 1200))
    store = Storage(settings.data_dir)
    poison = "img012.jpg"
    for death in range(3):
        proc = workers.start(**LEASE)

        def in_hand(attempt: int = death + 1) -> bool:
            state = state_of(redis_conn, job_id)
            return state.attempt == attempt and poison in state.in_flight

        wait_for(in_hand, timeout=120, what=f"the poison file in hand ({death + 1})")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(
            lambda: not has_lease(redis_conn, job_id),
            timeout=10,
            what="lease expiry",
        )
    assert workers.start("--burst", **LEASE).wait(timeout=120) == 0
    final = state_of(redis_conn, job_id)
    assert final.status is JobStatus.FAILED and final.crashes == 3
    assert "stopped 3 times" in final.error and poison in final.error
    assert (store.upload_dir(job_id) / poison).is_file()
