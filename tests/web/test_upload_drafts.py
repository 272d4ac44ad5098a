"""The upload page's draft folder as a browser uses it: chunks, removal, refusals, two tabs,
dropped camera folders, quotas and rate limits. Real Redis, real RQ worker, real result zips."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl

from shared.model_servers import beat
from shared.storage import Storage
from tests.conftest import open_site, pinned_clock
from tests.web.helpers import (
    chunk_post,
    form,
    page_fields,
    photo,
    post_chunk,
    send_chunks,
    zip_of,
)

UUIDS = [f"0b5d4c2e-1111-4222-8333-44445555{i:04d}" for i in range(10)]


def submit(client, fields: dict[str, str], email: str = "ranger@example.org", **extra):
    return client.post(
        "/upload", data={"email": email, **fields, **extra}, content_type="multipart/form-data"
    )


def job_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def result(client, job_id: str) -> zipfile.ZipFile:
    with client.get(f"/download/{job_id}") as response:
        return zipfile.ZipFile(io.BytesIO(response.data))


def test_a_removed_file_is_deleted_and_never_processed(client, run_worker) -> None:
    fields = page_fields(client)
    assert send_chunks(client, fields, photo(1), "keep.jpg", uuid=UUIDS[0]).status_code == 200
    assert send_chunks(client, fields, photo(2), "person.jpg", uuid=UUIDS[1]).status_code == 200
    removed = client.post(
        "/upload/remove",
        data={**fields, "name": "person.jpg"},
        headers={"X-CSRFToken": fields["csrf_token"], "Accept": "application/json"},
    )
    assert removed.get_json() == {"ok": True}
    job_id = job_of(submit(client, fields))
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["total"] == 1 and status["status"] == "finished"
    assert "person.jpg" not in result(client, job_id).namelist()


def test_files_already_in_the_draft_are_listed_with_a_working_remove_button(client) -> None:
    fields = page_fields(client)
    send_chunks(client, fields, photo(1), "a.jpg", uuid=UUIDS[0])
    send_chunks(client, fields, photo(2), "b.jpg", uuid=UUIDS[1])
    page = submit(client, fields, email="not-an-email").get_data(as_text=True)
    assert page.count('name="remove"') == 2 and "a.jpg" in page and "b.jpg" in page
    # the button submits the whole form to the remove route, as a browser without script does
    after = client.post(
        "/upload/remove",
        data={**fields, "remove": "b.jpg", "email": "ranger@example.org"},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Removed b.jpg." in after and 'value="b.jpg"' not in after
    assert 'value="ranger@example.org"' in after  # nothing typed is lost


def test_a_corrupt_zip_is_refused_with_its_reason_and_the_rest_goes_through(
    client, run_worker
) -> None:
    fields = page_fields(client)
    refused = send_chunks(client, fields, b"PK\x03\x04 not really a zip", "card.zip", uuid=UUIDS[0])
    assert refused.status_code == 422
    assert "card.zip is not a readable zip file" in refused.get_json()["error"]
    assert send_chunks(client, fields, photo(), "a.jpg", uuid=UUIDS[1]).status_code == 200
    job_id = job_of(submit(client, fields))
    run_worker()
    assert client.get(f"/api/jobs/{job_id}").get_json()["total"] == 1


def test_a_corrupt_zip_sent_with_the_plain_form_is_dropped_and_named(client, run_worker) -> None:
    fields = page_fields(client)
    files = form(files=[(b"garbage", "broken.zip"), (photo(), "a.jpg")])["files"]
    first = submit(client, fields, files=files)
    assert first.status_code == 400
    text = first.get_data(as_text=True)
    assert "Removed from this upload: broken.zip: broken.zip is not a readable zip file" in text
    job_id = job_of(submit(client, fields))  # the rest is still there: submit again
    run_worker()
    assert client.get(f"/api/jobs/{job_id}").get_json()["total"] == 1


def test_two_tabs_have_their_own_drafts(client, run_worker) -> None:
    tab1, tab2 = page_fields(client), page_fields(client)  # one browser session, two page loads
    assert tab1["draft"] != tab2["draft"]
    send_chunks(client, tab1, photo(1), "tab1.jpg", uuid=UUIDS[0])
    send_chunks(
        client, tab2, zip_of({"x.jpg": photo(2), "y.jpg": photo(3)}), "tab2.zip", uuid=UUIDS[1]
    )
    first, second = job_of(submit(client, tab1)), job_of(submit(client, tab2))
    run_worker()
    assert client.get(f"/api/jobs/{first}").get_json()["total"] == 1
    assert client.get(f"/api/jobs/{second}").get_json()["total"] == 2
    assert "tab1.jpg" in result(client, first).namelist()


def test_another_browser_cannot_write_into_a_draft(client, app) -> None:
    fields = page_fields(client)
    stranger = app.test_client()
    stranger_fields = page_fields(stranger)
    response = send_chunks(
        stranger, {**stranger_fields, "draft": fields["draft"]}, photo(), "a.jpg"
    )
    assert response.status_code == 400 and "reload the page" in response.get_json()["error"]


def test_dropped_camera_folders_keep_their_structure(client, run_worker) -> None:
    fields = page_fields(client)
    for i, camera in enumerate(("CamB", "CamA")):
        response = send_chunks(
            client,
            fields,
            photo(i),
            "IMG_0001.JPG",
            uuid=UUIDS[i],
            fullpath=f"{camera}/IMG_0001.JPG",
        )
        assert response.get_json() == {"ok": True, "name": f"{camera}/IMG_0001.JPG"}
    job_id = job_of(submit(client, fields))
    run_worker()
    archive = result(client, job_id)
    assert {"CamA/IMG_0001.JPG", "CamB/IMG_0001.JPG"} <= set(archive.namelist())
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")))["Media"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("file", "folder")
    assert [r[:2] for r in rows[1:]] == [
        ("CamA/IMG_0001.JPG", "CamA"),
        ("CamB/IMG_0001.JPG", "CamB"),
    ]  # sorted by path
    images = json.loads(archive.read("detections.json"))["images"]
    assert [im["file"] for im in images] == ["CamA/IMG_0001.JPG", "CamB/IMG_0001.JPG"]


def first_chunk(
    client,
    fields: dict[str, str],
    body: bytes,
    name: str,
    *,
    size: int,
    chunks: int,
    uuid: str = UUIDS[0],
):
    """Chunk 0 of a file declared as `size` bytes in `chunks` chunks, carrying `body`."""
    return chunk_post(
        client, fields, body, name, uuid=uuid, index=0, chunks=chunks, size=size, offset=0
    )


def small_site(settings, redis_conn, **overrides):
    return open_site(
        settings.with_overrides(**overrides), {"TRAPLINE_CLOCK": pinned_clock}
    ).test_client()


def test_a_chunk_cannot_write_past_its_files_declared_size(settings, redis_conn) -> None:
    client = small_site(settings, redis_conn, max_upload_bytes=10_000)
    fields = page_fields(client)
    response = first_chunk(client, fields, b"x" * 90_000, "a.jpg", size=5000, chunks=1)
    assert response.status_code == 413
    draft = Storage(settings.data_dir).draft_dir(fields["draft"])
    written = sum(p.stat().st_size for p in draft.glob("*.part"))
    assert written <= 5000


def test_files_still_arriving_count_against_the_quota(settings, redis_conn) -> None:
    client = small_site(settings, redis_conn, max_upload_bytes=10_000)
    fields = page_fields(client)
    first = first_chunk(client, fields, b"x" * 100, "a.jpg", size=6000, chunks=2)
    assert first.status_code == 200
    second = send_chunks(client, fields, b"y" * 6000, "b.jpg", uuid=UUIDS[1])
    assert second.status_code == 413  # 6,000 declared and arriving + 6,000 > 10,000


def test_a_client_over_its_hourly_limit_is_refused_at_the_first_chunk(settings, redis_conn) -> None:
    client = small_site(settings, redis_conn, uploads_per_hour_per_ip=1)
    fields = page_fields(client)
    send_chunks(client, fields, photo(), "a.jpg", uuid=UUIDS[0])
    assert submit(client, fields).status_code == 303
    again = send_chunks(client, page_fields(client), photo(), "b.jpg", uuid=UUIDS[1])
    assert again.status_code == 429 and "Too many uploads" in again.get_json()["error"]
    assert int(again.headers["Retry-After"]) > 0


def test_chunks_are_rate_limited(settings, redis_conn) -> None:
    client = small_site(settings, redis_conn, chunks_per_minute_per_ip=3)
    fields = page_fields(client)
    response = send_chunks(client, fields, b"z" * 4000, "a.jpg", step=1000)
    assert response.status_code == 429 and "upload chunks" in response.get_json()["error"]


def test_a_file_that_never_finished_is_named_at_submit(client) -> None:
    fields = page_fields(client)
    first_chunk(client, fields, b"x" * 1000, "big card.zip", size=3000, chunks=3)
    response = submit(client, fields)
    assert response.status_code == 400
    assert "Still uploading or failed part-way: big card.zip" in response.get_data(as_text=True)


def test_the_page_says_whether_email_is_sent_and_how_long_results_stay(
    settings, redis_conn, client
) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "This site sends no email" in page and "kept for 14 days" in page
    mailing = small_site(
        settings, redis_conn, smtp_host="mail.example.org", results_max_age_days=30.0
    )
    page = mailing.get("/").get_data(as_text=True)
    assert "emails you the download link" in page and "kept for 30 days" in page


def test_finished_job_page_shows_the_expiry_date(client, run_worker, redis_conn) -> None:
    from shared.contract import JobStatus, transition

    fields = page_fields(client)
    send_chunks(client, fields, photo(), "a.jpg")
    job_id = job_of(submit(client, fields))
    run_worker()
    transition(redis_conn, job_id, JobStatus, finished_at=1_767_225_600.0)  # 2026-01-01 UTC
    assert client.get(f"/api/jobs/{job_id}").get_json()["expires_on"] == "2026-01-15"
    assert "kept until 2026-01-15 (UTC)" in client.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_a_waiting_job_says_when_no_model_server_can_run_it(client, redis_conn) -> None:
    fields = page_fields(client)
    send_chunks(client, fields, photo(), "a.jpg")
    job_id = job_of(submit(client, fields))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "No model server is running right now" in page
    beat(redis_conn, "test-1", "some model")
    assert client.get(f"/api/jobs/{job_id}").get_json()["notice"] is None


def chunk_at(client, fields, body: bytes, *, index: int, chunks: int, step: int, size: int):
    return client.post(
        "/upload/chunk",
        content_type="multipart/form-data",
        headers={"X-CSRFToken": fields["csrf_token"]},
        data={
            "dzuuid": UUIDS[0],
            "dzchunkindex": str(index),
            "dztotalchunkcount": str(chunks),
            "dzchunkbyteoffset": str(index * step),
            "dztotalfilesize": str(size),
            "draft": fields["draft"],
            "file": (io.BytesIO(body), "card.zip"),
        },
    )


def test_a_file_of_its_first_and_last_chunks_is_not_finished(client, settings) -> None:
    """Issue 33, item 9: only bytes that arrived count. The first and last of 15 chunks make a
    file of the declared size on disk, holes between: refused as incomplete, and nothing of it
    is left to block Submit."""
    fields = page_fields(client)
    step, chunks = 1000, 15
    size = step * chunks
    assert chunk_at(client, fields, b"a" * step, index=0, chunks=chunks, step=step, size=size)
    last = chunk_at(client, fields, b"z" * step, index=14, chunks=chunks, step=step, size=size)
    assert last.status_code == 400 and "incomplete" in last.get_json()["error"]
    draft = Storage(settings.data_dir).draft_dir(fields["draft"])
    assert [p.name for p in draft.iterdir() if p.name != ".lock"] == []  # no part, note or file
    whole = send_chunks(client, fields, photo(), "a.jpg", step=step, uuid=UUIDS[1])
    assert whole.status_code == 200  # every chunk arrives: the file is finished
    assert [p.name for p in draft.iterdir() if not p.name.startswith(".")] == ["a.jpg"]


def test_a_refused_chunk_leaves_nothing_behind(settings, redis_conn) -> None:
    """Issue 33, item 9: a chunk larger than its file allows is refused and its part removed."""
    client = small_site(settings, redis_conn)
    fields = page_fields(client)
    response = first_chunk(client, fields, b"x" * 3000, "a.jpg", size=2000, chunks=1)
    assert response.status_code == 413
    draft = Storage(settings.data_dir).draft_dir(fields["draft"])
    assert [p.name for p in draft.iterdir() if p.name != ".lock"] == []


def test_a_chunk_sent_again_is_taken_again_and_the_page_can_ask_what_arrived(
    client, settings
) -> None:
    """Issue 33, item 9: after a restart of the site the page asks what the server holds and
    sends a chunk again; any chunk may arrive twice, and the last one of a finished file (its
    answer lost) answers the file's name instead of a refusal."""
    fields = page_fields(client)
    data = photo(3)
    step = len(data) // 3 + 1  # three chunks
    asked = {"draft": fields["draft"], "uuid": UUIDS[0]}
    assert client.get("/upload/arrived", query_string=asked).get_json() == {"state": "unknown"}
    for index in (0, 1, 1):  # the second chunk twice: its answer was lost
        assert post_chunk(client, fields, data, "a.jpg", index, step=step, uuid=UUIDS[0]).json == {
            "ok": True
        }
    held = client.get("/upload/arrived", query_string=asked).get_json()
    assert held == {"state": "arriving", "received": [0, 1], "size": len(data)}
    last = post_chunk(client, fields, data, "a.jpg", 2, step=step, uuid=UUIDS[0])
    assert last.get_json() == {"ok": True, "name": "a.jpg"}
    again = post_chunk(client, fields, data, "a.jpg", 2, step=step, uuid=UUIDS[0])
    assert again.get_json() == {"ok": True, "name": "a.jpg"}  # not "was not started"
    done = {"state": "done", "name": "a.jpg"}
    assert client.get("/upload/arrived", query_string=asked).get_json() == done
    folder = Storage(settings.data_dir).draft_dir(fields["draft"])
    assert (folder / "a.jpg").read_bytes() == data
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["a.jpg"]
    removed = client.post(
        "/upload/remove",
        data={**fields, "name": "a.jpg", "uuid": UUIDS[0]},
        headers={"X-CSRFToken": fields["csrf_token"], "Accept": "application/json"},
    )
    assert removed.get_json() == {"ok": True}
    assert client.get("/upload/arrived", query_string=asked).get_json() == {"state": "unknown"}
    replay = post_chunk(client, fields, data, "a.jpg", 2, step=step, uuid=UUIDS[0])
    assert replay.status_code == 400  # a removed file is not brought back by a late chunk
    other = client.get("/upload/arrived", query_string={**asked, "draft": "x" * 22})
    assert other.status_code == 400 and "expired" in other.get_json()["error"]
