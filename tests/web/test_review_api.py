"""Review through the HTTP API with a real worker: every action, the conflict between two
reviewers, another job's box refused, CSRF for the page and the API key for scripts, bulk accept,
another threshold, and exports (with and without photos) that carry exactly what was done."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest

from tests.web.helpers import SCRIPT, csrf_token
from tests.web.test_results_api import finished_job
from tests.web.test_security import make_client

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


def media(client, job_id: str) -> dict[str, dict]:
    body = client.get(f"/api/jobs/{job_id}/media?per_page=50").get_json()
    return {m["path"]: m for m in body["media"]}


def act(client, job_id: str, **body) -> tuple[int, dict]:
    body.setdefault("reviewer", "Ana")
    response = client.post(f"/api/jobs/{job_id}/reviews", json=body, headers=SCRIPT)
    return response.status_code, response.get_json()


def box_of(item: dict) -> int:
    return item["detections"][0]["id"]


def read_zip(client, job_id: str, what: str = "") -> zipfile.ZipFile:
    with client.get(f"/download/{job_id}" + (f"?what={what}" if what else "")) as response:
        assert response.status_code == 200
        return zipfile.ZipFile(io.BytesIO(response.data))


def sheet(archive: zipfile.ZipFile, name: str) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")), read_only=True)
    rows = list(book[name].iter_rows(values_only=True))
    book.close()
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@BOTH
def test_each_action_and_the_export_that_carries_it(client, run_worker, settings) -> None:
    job_id = finished_job(client, run_worker)
    before = read_zip(client, job_id)
    found = media(client, job_id)
    a, b, c, top = (found[p] for p in ("cam1/a.jpg", "cam1/b.jpg", "cam2/c.jpg", "top.jpg"))
    # the red-patch model finds: animal 0.95, person 0.5 (counted at 0.4), vehicle 0.1
    assert (
        act(client, job_id, action="reject", detection_id=box_of(a), version=a["version"])[0] == 201
    )
    code, added = act(
        client,
        job_id,
        action="add",
        media_id=b["id"],
        category="animal",
        bbox=[0.5, 0.5, 0.25, 0.25],
        species="Grey fox",
    )
    assert code == 201 and added["media"]["detections"][-1]["source"] == "human"
    assert (
        act(client, job_id, action="relabel", detection_id=box_of(c), category="vehicle")[0] == 201
    )
    assert (
        act(client, job_id, action="species", detection_id=box_of(top), species="Red fox")[0] == 201
    )
    code, wrong = act(client, job_id, action="species", detection_id=box_of(top), species="Cat")
    assert act(client, job_id, action="undo", review_id=wrong["review_id"])[0] == 201
    assert media(client, job_id)["top.jpg"]["detections"][0]["species"] == "Red fox"
    summary = client.get(f"/api/jobs/{job_id}/summary").get_json()
    assert summary["species"] == ["Grey fox", "Red fox"]

    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=SCRIPT).status_code == 202
    run_worker()
    after = read_zip(client, job_id)
    images = {r["file"]: r for r in sheet(after, "Media")}
    assert [images[f]["review"] for f in ("cam1/a.jpg", "cam1/b.jpg", "cam2/c.jpg", "top.jpg")] == [
        "changed",
        "changed",
        "changed",
        "accepted",
    ]
    assert images["cam1/a.jpg"]["verified_category"] == "person"
    assert images["cam2/c.jpg"]["verified_category"] == "person+vehicle"
    assert images["cam1/b.jpg"]["species"] == "Grey fox" and images["top.jpg"]["reviewer"] == "Ana"
    assert images["cam1/a.jpg"]["outcome"] == "animal+person"  # the AI's own outcome stays
    rows = {(r["file"], r["source"], r["category"]): r for r in sheet(after, "Detections")}
    assert rows[("cam1/a.jpg", "machine", "animal")]["review"] == "rejected"
    assert rows[("cam1/a.jpg", "machine", "animal")]["confidence"] > 0.9
    assert rows[("cam1/a.jpg", "machine", "person")]["review"] == "accepted"
    assert ("cam1/a.jpg", "machine", "vehicle") not in rows  # below the threshold, not judged
    assert rows[("cam1/b.jpg", "human", "animal")]["review"] == "added"
    assert rows[("cam1/b.jpg", "human", "animal")]["confidence"] is None
    assert rows[("cam2/c.jpg", "machine", "animal")]["verified_category"] == "vehicle"
    assert rows[("cam2/c.jpg", "machine", "animal")]["review"] == "changed"
    entries = {e["file"]: e for e in json.loads(after.read("detections.json"))["images"]}
    assert entries["cam1/a.jpg"]["detections"][0]["verified"] is False
    assert entries["top.jpg"]["detections"][0] == {
        **entries["top.jpg"]["detections"][0],
        "verified": True,
        "species": "Red fox",
    }
    assert entries["cam1/b.jpg"]["detections"][-1]["source"] == "human"
    assert entries["cam2/c.jpg"]["detections"][0]["verified_category"] == "3"
    assert entries["cam2/c.jpg"]["detections"][2]["verified"] is False  # vehicle 0.1
    # copies whose boxes changed are drawn again; the accepted one is the same file
    assert after.read("top.jpg") == before.read("top.jpg")
    assert after.read("cam1/a.jpg") != before.read("cam1/a.jpg")


def test_two_reviewers_conflict_and_another_jobs_box_is_refused(client, run_worker) -> None:
    job_id = finished_job(client, run_worker)
    other = finished_job(client, run_worker)
    a = media(client, job_id)["cam1/a.jpg"]
    assert (
        act(client, job_id, action="accept", media_id=a["id"], version=0, reviewer="Ana")[0] == 201
    )
    code, body = act(
        client, job_id, action="reject", detection_id=box_of(a), version=0, reviewer="Bo"
    )
    assert code == 409 and "reloaded" in body["error"]
    assert body["media"]["version"] == 1 and body["media"]["reviewer"] == "Ana"
    theirs = media(client, other)["cam1/a.jpg"]
    code, body = act(client, job_id, action="reject", detection_id=box_of(theirs))
    assert code == 404 and "no such box" in body["error"]
    assert media(client, other)["cam1/a.jpg"]["review"] == ""
    assert act(client, job_id, action="fly")[0] == 400
    assert (
        act(
            client,
            job_id,
            action="add",
            media_id=a["id"],
            category="animal",
            bbox=[0.9, 0.9, 0.5, 0.5],
        )[0]
        == 400
    )
    assert act(client, "A" * 32, action="accept", media_id=a["id"])[0] == 404


def test_the_page_needs_its_csrf_token_and_scripts_their_key(
    settings, redis_conn, run_worker
) -> None:
    client = make_client(settings, api_key="s3cret-key")
    upload_key = {"X-API-Key": "s3cret-key"}
    from tests.web.helpers import form, photo

    response = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        headers=upload_key,
        content_type="multipart/form-data",
    )
    job_id = response.get_json()["id"]
    run_worker()
    item = media(client, job_id)["a.jpg"]
    body = {"action": "accept", "media_id": item["id"], "reviewer": "Ana"}
    url = f"/api/jobs/{job_id}/reviews"
    assert client.post(url, json=body).status_code == 400  # no token: not from our page
    assert client.post(url, json=body, headers={"X-API-Key": "nope"}).status_code == 401
    assert (
        client.post(url, json=body, headers={"X-CSRFToken": csrf_token(client)}).status_code == 201
    )
    assert client.post(url, json={**body, "action": "empty"}, headers=upload_key).status_code == 201
    assert client.post(f"/api/jobs/{job_id}/exports", json={}).status_code == 400
    assert (
        client.post(
            f"/api/jobs/{job_id}/exports", json={"photos": False}, headers=upload_key
        ).status_code
        == 202
    )


def test_bulk_accept_threshold_and_a_reports_only_export(client, run_worker) -> None:
    job_id = finished_job(client, run_worker)
    low = client.get(f"/api/jobs/{job_id}/summary?threshold=0.99").get_json()
    assert low["at_threshold"]["outcomes"]["animal"] < low["outcomes"]["animal"]
    code, bulk = act(
        client, job_id, action="bulk_accept", filter={"category": "animal", "min_conf": 0.4}
    )
    assert code == 201 and bulk["images"] == 4
    assert {m["review"] for m in media(client, job_id).values() if not m["failure"]} == {"accepted"}
    code, undone = act(client, job_id, action="undo_bulk", batch=bulk["batch"])
    assert code == 200 and undone["undone"] == 4
    assert (
        client.post(
            f"/api/jobs/{job_id}/threshold", json={"threshold": 0.99}, headers=SCRIPT
        ).status_code
        == 200
    )
    assert client.get(f"/api/jobs/{job_id}/summary").get_json()["threshold"] == 0.99
    assert (
        client.post(
            f"/api/jobs/{job_id}/exports", json={"photos": False, "threshold": 1.5}, headers=SCRIPT
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/api/jobs/{job_id}/exports", json={"photos": False}, headers=SCRIPT
        ).status_code
        == 202
    )
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert [d["what"] for d in status["downloads"]] == ["reports", "full"]
    assert status["downloads"][0]["bytes"] < status["downloads"][1]["bytes"]
    reports = read_zip(client, job_id)  # the newest
    assert not [n for n in reports.namelist() if n.endswith(".jpg")]
    summary_rows = dict(
        openpyxl.load_workbook(io.BytesIO(reports.read("report.xlsx")))["Summary"].iter_rows(
            min_row=2, max_col=2, values_only=True
        )
    )
    assert summary_rows["Threshold used for outcomes and counts"] == 0.99
    assert [n for n in read_zip(client, job_id, "full").namelist() if n.endswith(".jpg")]


def test_the_undoable_changes_survive_a_reload(client, run_worker) -> None:
    """What the page asks on load so Z still undoes: the person's own live changes, oldest
    first, a bulk accept once; undone ones and other people's are left out."""
    job_id = finished_job(client, run_worker)
    found = media(client, job_id)
    code, first = act(client, job_id, action="accept", media_id=found["cam1/a.jpg"]["id"])
    assert code == 201
    act(client, job_id, action="accept", media_id=found["cam1/b.jpg"]["id"], reviewer="Bo")
    code, bulk = act(client, job_id, action="bulk_accept", filter={})
    assert code == 201 and bulk["images"] == 2

    def undoable(name: str) -> list:
        url = f"/api/jobs/{job_id}/reviews/undoable?reviewer={name}"
        return client.get(url).get_json()["undoable"]

    assert undoable("Ana") == [{"review_id": first["review_id"]}, {"batch": bulk["batch"]}]
    assert undoable("Bo") == [{"review_id": first["review_id"] + 1}]
    assert undoable("") == [] and undoable("Nobody") == []
    act(client, job_id, action="undo_bulk", batch=bulk["batch"])
    assert undoable("Ana") == [{"review_id": first["review_id"]}]
