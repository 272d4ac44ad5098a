"""The uploader's event gap and camera folder level, through the API to the report."""

from __future__ import annotations

import pytest

from tests.web.helpers import SCRIPT, form, photo, zip_of
from tests.web.test_review_api import act, media, read_zip, sheet


def test_event_gap_and_folder_level_reach_the_report(client, run_worker) -> None:
    card = zip_of(
        {"siteA/cam1/a.jpg": photo(1), "siteA/cam2/b.jpg": photo(2), "siteB/cam1/c.jpg": photo(3)}
    )
    response = client.post(
        "/api/jobs",
        data={**form(files=[(card, "card.zip")]), "event_gap": "300", "deployment_level": "2"},
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 201
    run_worker()
    archive = read_zip(client, response.get_json()["id"])
    cameras = [row["deployment"] for row in sheet(archive, "Deployments")]
    assert cameras == ["siteA/cam1", "siteA/cam2", "siteB/cam1"]
    summary = dict(row for row in _summary(archive))
    assert summary["Events (a gap of at most 300 s within one)"] == 3  # no capture times


def test_sorted_copies_follow_the_review(client, run_worker) -> None:
    card = zip_of({"cam1/a.jpg": photo(1), "cam1/b.jpg": photo(2)})
    response = client.post(
        "/api/jobs",
        data={**form(files=[(card, "card.zip")]), "sorted_copies": "on"},
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    job_id = response.get_json()["id"]
    run_worker()
    first = read_zip(client, job_id)
    assert sorted(n for n in first.namelist() if n.endswith(".jpg")) == [
        "animal_person/cam1/a.jpg",
        "animal_person/cam1/b.jpg",
    ]
    a = media(client, job_id)["cam1/a.jpg"]
    assert act(client, job_id, action="empty", media_id=a["id"])[0] == 201
    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=SCRIPT).status_code == 202
    run_worker()
    again = read_zip(client, job_id)
    assert sorted(n for n in again.namelist() if n.endswith(".jpg")) == [
        "animal_person/cam1/b.jpg",
        "empty/cam1/a.jpg",
    ]
    # the untouched copy came over from the first zip, from under its folder
    assert again.read("animal_person/cam1/b.jpg") == first.read("animal_person/cam1/b.jpg")


def test_reports_only_draws_and_keeps_no_pictures(client, run_worker, settings) -> None:
    card = zip_of({"cam1/a.jpg": photo(1), "cam1/b.jpg": photo(2)})
    response = client.post(
        "/api/jobs",
        data={**form(files=[(card, "card.zip")]), "reports_only": "on"},
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    job_id = response.get_json()["id"]
    run_worker()
    archive = read_zip(client, job_id)
    assert [n for n in archive.namelist() if n.endswith(".jpg")] == []
    assert "report.xlsx" in archive.namelist() and "detections.json" in archive.namelist()
    found = media(client, job_id)
    assert set(found) == {"cam1/a.jpg", "cam1/b.jpg"}
    assert all("thumbnail_url" not in m and "view_url" not in m for m in found.values())
    assert all(m["outcome"] != "error" for m in found.values())  # detected all the same
    thumbs = settings.data_dir / "thumbnails" / job_id
    assert not thumbs.exists() or not any(thumbs.rglob("*.jpg"))
    # nothing kept to crop from: classifying later is refused up front, saying why
    with client.post(
        f"/api/jobs/{job_id}/classify", json={"class_set": "any"}, headers=SCRIPT
    ) as refused:
        assert refused.status_code == 409
        assert "for the reports only" in refused.get_json()["error"]
    with client.get(f"/jobs/{job_id}") as page:
        assert page.status_code == 200


def _summary(archive):
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")), read_only=True)
    rows = [(r[0], r[1]) for r in book["Summary"].iter_rows(values_only=True) if r[1] is not None]
    book.close()
    return rows


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("event_gap", "-5", "event gap"),
        ("event_gap", "soon", "event gap"),
        ("deployment_level", "0", "deployment folder level"),
        ("deployment_level", "two", "deployment folder level"),
    ],
)
def test_bad_choices_are_refused(client, field: str, value: str, words: str) -> None:
    response = client.post(
        "/api/jobs",
        data={**form(files=[(photo(), "a.jpg")]), field: value},
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 400 and words in response.get_json()["error"]
