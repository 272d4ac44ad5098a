"""Upload -> Redis queue -> a real RQ worker -> status -> download, through Flask's test client."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from shared.contract import NOTICE_KEY, RATE_KEY, STATE_PREFIX, JobStatus, transition
from shared.model_servers import beat
from shared.storage import Storage
from tests.processes import state_of
from tests.web.helpers import BURST, SCRIPT, form, page_fields, photo, send_chunks, zip_of


def submit(client, **kw) -> dict:
    response = client.post(
        "/api/jobs", data=form(**kw), content_type="multipart/form-data", headers=SCRIPT
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_upload_queue_process_status_download(client, run_worker, settings) -> None:
    upload = zip_of({"cam1/a.jpg": photo(1), "cam1/b.JPG": photo(2), "cam2/broken.jpg": b"xx"})
    real = (BURST / "StationC__2009-04-11__21-44-00(1).JPG").read_bytes()
    created = submit(client, files=[(upload, "site.zip"), (real, "StationC (1).JPG")])
    job_id = created["id"]
    assert len(job_id) == 32 and created["status_url"].endswith(f"/api/jobs/{job_id}")

    queued = client.get(f"/api/jobs/{job_id}").get_json()
    assert queued["status"] == "queued" and queued["queue_position"] == 1
    assert queued["total"] == 4 and queued["processed"] == 0 and queued["download_url"] is None
    assert (
        client.get(f"/download/{job_id}", headers={"Accept": "application/json"}).status_code == 409
    )

    run_worker()

    done = client.get(f"/api/jobs/{job_id}").get_json()
    assert done["status"] == "finished" and done["processed"] == 4 == done["total"]
    assert done["summary"]["errors"] == 1 and done["summary"]["animal"] == 2
    assert "red_patch_md.pb" in done["model"]
    with client.get(f"/download/{job_id}") as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        assert f"trapline-{job_id[:8]}.zip" in response.headers["Content-Disposition"]
        body = response.data
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        names = set(z.namelist())
        results = json.loads(z.read("detections.json"))
    assert {
        "site/cam1/a.jpg",
        "site/cam1/b.JPG",
        "StationC (1).JPG",
        "report.xlsx",
        "images.csv",
    } <= names
    failures = {im["file"]: im.get("failure") for im in results["images"]}
    assert "not a readable image" in failures["site/cam2/broken.jpg"]
    store = Storage(settings.data_dir)
    assert not store.upload_dir(job_id).exists() and not store.work_dir(job_id).exists()
    page = client.get(f"/jobs/{job_id}")
    assert b"Download results" in page.data and b"finished" in page.data


def test_queue_position_and_eta(client, run_worker, redis_conn) -> None:
    first = submit(client, files=[(photo(), "a.jpg")])["id"]
    second = submit(client, files=[(photo(), "b.jpg"), (photo(3), "c.jpg")])["id"]
    assert client.get(f"/api/jobs/{first}").get_json()["queue_position"] == 1
    status = client.get(f"/api/jobs/{second}").get_json()
    assert status["queue_position"] == 2 and status["eta_seconds"] is None  # no speed measured yet
    redis_conn.set(RATE_KEY, 0.5)  # 0.5 images/s measured on the last job
    waiting = client.get(f"/api/jobs/{second}").get_json()
    # the first job's image runs before this job's two: (1 + 2) / 0.5 images/s
    assert (waiting["jobs_ahead"], waiting["images_ahead"], waiting["eta_seconds"]) == (1, 1, 6)
    page = client.get(f"/jobs/{second}").get_data(as_text=True)
    assert "waiting for 1 job(s) (about 1 min until yours is done)" in page
    state = state_of(redis_conn, second)
    transition(redis_conn, state.id, JobStatus, status=JobStatus.PROCESSING, processed=1, rate=0.25)
    processing = client.get(f"/api/jobs/{second}").get_json()
    assert processing["eta_seconds"] == 4 and processing["queue_position"] is None


def test_cancel_a_queued_job(client, run_worker, settings) -> None:
    job_id = submit(client, files=[(photo(), "a.jpg")])["id"]
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "deletes your uploaded photos" in page and 'id="cancel-form"' in page
    response = client.post(f"/api/jobs/{job_id}/cancel", headers=SCRIPT)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    run_worker()
    assert client.get(f"/api/jobs/{job_id}").get_json()["status"] == "cancelled"
    assert not Storage(settings.data_dir).upload_dir(job_id).exists()
    gone = client.get(f"/download/{job_id}", headers={"Accept": "application/json"})
    assert gone.status_code == 410 and "was cancelled" in gone.get_json()["error"]


def test_cancel_a_running_job_keeps_no_partial_zip(
    client, run_worker, redis_conn, settings
) -> None:
    job_id = submit(client, files=[(photo(i), f"{i}.jpg") for i in range(6)])["id"]
    transition(redis_conn, job_id, JobStatus, status=JobStatus.PROCESSING)
    assert (
        client.post(f"/api/jobs/{job_id}/cancel", headers=SCRIPT).get_json()["status"]
        == "processing"
    )
    assert state_of(redis_conn, job_id).cancel_requested
    run_worker()  # the worker picks it up and stops at its first check
    assert state_of(redis_conn, job_id).status is JobStatus.CANCELLED
    store = Storage(settings.data_dir)
    assert not store.result_zip(job_id).exists() and not store.work_dir(job_id).exists()


@pytest.mark.parametrize("job_id", ["nope", "../../etc/passwd", "A" * 33, "A" * 31 + "!", "A" * 32])
def test_unknown_and_malformed_ids_are_404(client, job_id: str) -> None:
    for path in (f"/api/jobs/{job_id}", f"/download/{job_id}", f"/jobs/{job_id}"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 404, path
    assert client.post(f"/api/jobs/{'B' * 32}/cancel", headers=SCRIPT).status_code == 404


def test_expired_result_is_410(client, run_worker, settings) -> None:
    job_id = submit(client, files=[(photo(), "a.jpg")])["id"]
    run_worker()
    Storage(settings.data_dir).result_zip(job_id).unlink()  # what the cleanup job does
    response = client.get(f"/download/{job_id}", headers={"Accept": "application/json"})
    assert response.status_code == 410 and "expired" in response.get_json()["error"]


def test_not_ready_download_shows_the_job_page_to_browsers(client) -> None:
    job_id = submit(client, files=[(photo(), "a.jpg")])["id"]
    response = client.get(f"/download/{job_id}", headers={"Accept": "text/html"})
    assert response.status_code == 409 and b"Your detection job" in response.data


@pytest.mark.parametrize(
    ("email", "files", "status", "words"),
    [
        ("not-an-email", [(b"x", "a.jpg")], 400, "valid email"),
        ("a@b.org\r\nBcc: x@y.org", [(b"x", "a.jpg")], 400, "valid email"),
        ("", [(b"x", "a.jpg")], 400, "valid email"),
        ("ranger@example.org", [], 400, "No files"),
        (
            "ranger@example.org",
            [(zip_of({"notes.txt": b"hi"}), "empty.zip")],
            400,
            "contained no photos (JPEG",
        ),
        ("ranger@example.org", [(b"not a zip", "broken.zip")], 400, "not a readable zip"),
        ("ranger@example.org", [(b"MZ...", "tool.exe")], 415, "not a zip, a photo or a video"),
    ],
)
def test_bad_submissions_are_refused_clearly(
    client, redis_conn, email, files, status, words
) -> None:
    response = client.post(
        "/api/jobs",
        data=form(email=email, files=files),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == status
    assert words in response.get_json()["error"]
    assert redis_conn.keys(STATE_PREFIX + "*") == []


def test_too_large_is_413(settings, redis_conn) -> None:
    from tests.conftest import open_site

    small = open_site(settings.with_overrides(max_upload_bytes=10_000))
    response = small.test_client().post(
        "/api/jobs", data=form(files=[(b"x" * 20_000, "a.jpg")]), content_type="multipart/form-data"
    )
    assert response.status_code == 413 and "larger" in response.get_json()["error"]


def test_healthz_counts_model_servers(client, redis_conn) -> None:
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded" and body["model_servers"] == 0 and "queue" in body["notice"]
    redis_conn.set(NOTICE_KEY, "No detector model at /m/md_v4.1.0.pb")
    assert "No detector model" in client.get("/healthz").get_json()["notice"]
    beat(redis_conn, "box-1", "MegaDetector v4.1.0")
    body = client.get("/healthz").get_json()
    assert body["model_servers"] == 1 and body["models"] == ["MegaDetector v4.1.0"]
    assert body["status"] == "ok"


def test_redis_down_is_503_not_a_traceback(settings, tmp_path) -> None:
    from tests.conftest import free_port, open_site

    down = settings.with_overrides(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = open_site(down)
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    response = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 503 and "queue is not reachable" in response.get_json()["error"]
    page = client.get(f"/jobs/{'A' * 32}", headers={"Accept": "text/html"})
    assert page.status_code == 503 and b"Traceback" not in page.data


def test_plain_html_form_without_javascript(client, run_worker) -> None:
    data = form(files=[(photo(), "a.jpg"), (photo(5), "b.png.jpg")]) | page_fields(client)
    response = client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    run_worker()
    assert client.get(f"/api/jobs/{job_id}").get_json()["status"] == "finished"


def test_dropzone_chunks_are_joined_then_submitted(client, run_worker) -> None:
    fields = page_fields(client)  # the page gives this tab its own draft folder and its token
    upload = zip_of({f"img{i}.jpg": photo(i) for i in range(3)})
    response = send_chunks(client, fields, upload, "card one.zip")
    assert response.status_code == 200 and response.get_json()["name"] == "card one.zip"
    response = client.post(
        "/upload",
        data={"email": "ranger@example.org", **fields},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    run_worker()
    assert client.get(f"/api/jobs/{job_id}").get_json()["total"] == 3
    assert client.get(f"/api/jobs/{job_id}").get_json()["status"] == "finished"


def test_form_errors_render_on_the_page(client) -> None:
    response = client.post(
        "/upload", data={"email": "bad", **page_fields(client)}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and b"valid email" in response.data
