"""A finished job's stored results through the API, on SQLite and on PostgreSQL: pages of media
that agree with the zip's MegaDetector JSON, counts, thumbnails, 404/410, and an export made
again from the store."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import delete, select

from model_server.service.follow_up_recovery import recover_follow_ups
from shared.cleanup import Cleaner
from shared.contract import JobStatus, state_key
from shared.store.schema import detections, media
from tests.processes import state_of
from tests.web.helpers import SCRIPT, form, photo, zip_of

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


def finished_job(client, run_worker) -> str:
    upload = zip_of(
        {
            "cam1/a.jpg": photo(1),
            "cam1/b.jpg": photo(2),
            "cam2/c.jpg": photo(3),
            "cam2/broken.jpg": b"not a photo",
            "top.jpg": photo(4),
        }
    )
    response = client.post(
        "/api/jobs",
        data=form(files=[(upload, "site.zip")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 201
    run_worker()
    job_id = response.get_json()["id"]
    assert client.get(f"/api/jobs/{job_id}").get_json()["status"] == "finished"
    return job_id


def zip_json(client, job_id: str) -> dict:
    with (
        client.get(f"/download/{job_id}") as response,
        zipfile.ZipFile(io.BytesIO(response.data)) as z,
    ):
        return json.loads(z.read("detections.json"))


@BOTH
def test_media_pages_agree_with_the_zip(client, run_worker, settings) -> None:
    job_id = finished_job(client, run_worker)
    seen, page = [], 1
    while True:
        body = client.get(f"/api/jobs/{job_id}/media?per_page=2&page={page}").get_json()
        assert body["total"] == 5 and body["pages"] == 3
        seen += body["media"]
        if page == body["pages"]:
            break
        page += 1
    by_file = {im["file"]: im for im in zip_json(client, job_id)["images"]}
    assert [m["path"] for m in seen] == list(by_file)  # upload order, as in the JSON
    for item in seen:
        entry = by_file[item["path"]]
        if item["failure"]:
            assert entry["failure"] and item["outcome"] == "error" and not item["thumbnail"]
            continue
        assert [d["confidence"] for d in item["detections"]] == pytest.approx(
            [d["conf"] for d in entry["detections"]], abs=1e-3
        )
        with (
            client.get(item["thumbnail_url"]) as response,
            Image.open(io.BytesIO(response.data)) as thumb,
        ):
            assert thumb.format == "JPEG" and max(thumb.size) == 160  # never enlarged
    animals = client.get(f"/api/jobs/{job_id}/media?outcome=animal&folder=cam1").get_json()
    assert [m["path"] for m in animals["media"]] == ["cam1/a.jpg", "cam1/b.jpg"]
    ordered = client.get(f"/api/jobs/{job_id}/media?order=confidence").get_json()["media"]
    confs = [m["max_conf"] for m in ordered if m["max_conf"] is not None]
    assert confs == sorted(confs, reverse=True) and ordered[-1]["failure"]


@BOTH
def test_summary_counts_what_the_job_record_says(client, run_worker, settings) -> None:
    job_id = finished_job(client, run_worker)
    summary = client.get(f"/api/jobs/{job_id}/summary").get_json()
    record = client.get(f"/api/jobs/{job_id}").get_json()["summary"]
    assert summary["images"] == record["images"] == 5
    assert summary["outcomes"]["animal"] == record["animal"] == 4
    assert summary["outcomes"]["error"] == record["errors"] == 1
    assert summary["categories"]["animal"]["detections"] == 4
    folders = {f["folder"]: f for f in summary["folders"]}
    assert folders["cam2"]["images"] == 2 and folders["cam2"]["error"] == 1
    assert folders[""]["animal"] == 1
    assert "red_patch_md.pb" in summary["model"]


@BOTH
def test_unknown_expired_and_bad_requests(client, run_worker, settings, redis_conn) -> None:
    missing = "A" * 32
    assert client.get(f"/api/jobs/{missing}/media").status_code == 404
    assert client.get(f"/api/jobs/{missing}/summary").status_code == 404
    assert client.get("/api/jobs/not-an-id/media").status_code == 404
    waiting = client.post(
        "/api/jobs",
        data=form(files=[(photo(1), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    assert client.get(f"/api/jobs/{waiting}/media").status_code == 409
    job_id = finished_job(client, run_worker)
    bad = client.get(f"/api/jobs/{job_id}/media?order=random")
    assert bad.status_code == 400 and "order must be one of" in bad.get_json()["error"]
    assert client.get(f"/api/jobs/{job_id}/media?per_page=100000").status_code == 400
    assert client.get(f"/api/jobs/{job_id}/media?min_conf=high").status_code == 400
    store = client.application.extensions["trapline.store"]
    finished = state_of(redis_conn, job_id).finished_at
    assert finished is not None
    report = Cleaner(
        settings,
        redis_conn,
        dry_run=False,
        results_days=14,
        uploads_days=14,
        now=finished + 15 * 86400 + 10**6,
        store=store,
    ).run()
    assert report.removed >= 1 and not report.errors
    with store.connect() as conn:
        assert conn.execute(select(media).where(media.c.job_id == job_id)).first() is None
    assert not (settings.data_dir / "thumbnails" / job_id).exists()
    assert client.get(f"/api/jobs/{job_id}/media").status_code == 410
    assert client.get(f"/api/jobs/{job_id}/summary").status_code == 410
    assert state_of(redis_conn, job_id).status is JobStatus.EXPIRED
    # months later the live record has lapsed from Redis: the store alone still says why
    redis_conn.delete(state_key(job_id))
    for url in (f"/api/jobs/{job_id}/media", f"/api/jobs/{job_id}", f"/download/{job_id}"):
        gone = client.get(url, headers=SCRIPT)
        assert gone.status_code == 410 and "expired" in gone.get_json()["error"], url
    cancelled = client.post(
        "/api/jobs",
        data=form(files=[(photo(2), "b.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    assert client.post(f"/api/jobs/{cancelled}/cancel", headers=SCRIPT).status_code == 200
    redis_conn.delete(state_key(cancelled))
    gone = client.get(f"/api/jobs/{cancelled}/summary", headers=SCRIPT)
    assert gone.status_code == 410 and "cancelled" in gone.get_json()["error"]
    assert client.get(f"/api/jobs/{'B' * 32}", headers=SCRIPT).status_code == 404


@BOTH
def test_export_again_writes_the_outputs_from_the_store(
    client, run_worker, settings, redis_conn
) -> None:
    job_id = finished_job(client, run_worker)
    with client.get(f"/download/{job_id}") as response:
        before = zipfile.ZipFile(io.BytesIO(response.data))
    store = client.application.extensions["trapline.store"]
    with store.begin() as conn:  # what a review that rejects a box will do
        gone = conn.execute(select(media.c.id).where(media.c.path == "cam1/a.jpg")).scalar()
        conn.execute(delete(detections).where(detections.c.media_id == gone))
    assert client.post(f"/api/jobs/{job_id}/exports", headers=SCRIPT).status_code == 202
    again = client.post(f"/api/jobs/{job_id}/exports", headers=SCRIPT)
    assert again.status_code == 409 and "export is already waiting" in again.get_json()["error"]
    # a queue entry lost (a Redis restarted without persistence): recovery queues it again
    mark = state_of(redis_conn, job_id).follow_up
    Job.fetch(mark, connection=redis_conn, serializer=JSONSerializer).delete()
    assert recover_follow_ups(redis_conn) == [job_id]
    assert state_of(redis_conn, job_id).follow_up == mark.replace("-export-1", "-export-2")
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["summary"]["animal"] == 3 and status["status"] == "finished"
    after = {im["file"]: im for im in zip_json(client, job_id)["images"]}
    assert after["cam1/a.jpg"]["detections"] == []
    assert after["cam1/b.jpg"]["detections"]
    with client.get(f"/download/{job_id}") as response:
        now = zipfile.ZipFile(io.BytesIO(response.data))
    pictures = sorted(n for n in before.namelist() if n.endswith(".jpg"))
    assert pictures == sorted(n for n in now.namelist() if n.endswith(".jpg"))
    assert all(before.read(n) == now.read(n) for n in pictures)
    assert (
        client.post(f"/api/jobs/{job_id}/exports", headers=SCRIPT).status_code == 202
    )  # the mark was cleared
