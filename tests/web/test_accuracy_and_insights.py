"""The dashboard's data, charts and GeoJSON, and the evaluation against a review and against an
uploaded truth file, through HTTP with a real worker on SQLite and PostgreSQL. The red-patch
model finds an animal (0.95) where the red patch is, and always a person (0.5) and a vehicle
(0.1); the job counts boxes at 0.4."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from tests.images import exif_block, jpeg_bytes, red_patch_image
from tests.web.helpers import SCRIPT, csrf_token, form, zip_of

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
SVG = "{http://www.w3.org/2000/svg}"


def shot(*, animal: bool, when: str | None, gps: tuple[float, float] | None = None) -> bytes:
    image = red_patch_image((160, 120), (10, 10, 50, 40) if animal else (0, 0, 0, 0))
    return jpeg_bytes(image, exif_block(when=when, gps=gps) if when else b"")


def survey(client, run_worker) -> str:
    """cam1: two animals at 05 h on 1 and 3 June; night & day: a person at 22 h on 2 June;
    top.jpg: no EXIF at all."""
    upload = zip_of(
        {
            "cam1/a.jpg": shot(animal=True, when="2021:06:01 05:30:00", gps=(-33.5, 151.25)),
            "cam1/b.jpg": shot(animal=True, when="2021:06:03 05:10:00", gps=(-33.5002, 151.2502)),
            "night & day/c.jpg": shot(animal=False, when="2021:06:02 22:15:00", gps=(-33.6, 151.3)),
            "top.jpg": shot(animal=False, when=None),
        }
    )
    response = client.post(
        "/api/jobs",
        data=form(files=[(upload, "survey.zip")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 201
    run_worker()
    return response.get_json()["id"]


@BOTH
def test_dashboard_hours_days_cameras_and_geojson(client, run_worker, settings) -> None:
    job_id = survey(client, run_worker)
    body = client.get(f"/api/jobs/{job_id}/insights").get_json()
    hours = {h["hour"]: h for h in body["hours"] if h["images"]}
    assert set(hours) == {5, 22}
    assert (hours[5]["animal"], hours[5]["person"], hours[5]["vehicle"]) == (2, 2, 0)
    assert (hours[22]["animal"], hours[22]["person"]) == (0, 1)
    assert body["days"]["unit"] == "day"
    assert [(d["day"], d["images"]) for d in body["days"]["rows"]] == [
        ("2021-06-01", 1),
        ("2021-06-02", 1),
        ("2021-06-03", 1),
    ]
    cams = {c["folder"]: c for c in body["cameras"]}
    assert set(cams) == {"", "cam1", "night & day"}
    assert cams["cam1"]["detections"] == 4 and cams["cam1"]["with_gps"] == 2
    assert cams["cam1"]["latitude"] == pytest.approx(-33.5001, abs=1e-5)
    assert cams["cam1"]["first"].startswith("2021-06-01T05:30")
    assert cams[""]["latitude"] is None and cams[""]["detections"] == 1

    geo = client.get(f"/api/jobs/{job_id}/cameras.geojson")
    assert (
        geo.mimetype == "application/geo+json"
        and "attachment" in geo.headers["Content-Disposition"]
    )
    points = {f["properties"]["folder"]: f for f in geo.get_json()["features"]}
    assert set(points) == {"cam1", "night & day"}  # the top level has no position
    lon, lat = points["night & day"]["geometry"]["coordinates"]
    assert (lat, lon) == pytest.approx((-33.6, 151.3), abs=1e-4)
    assert points["cam1"]["properties"]["animal_detections"] == 2

    for name, words in (
        ("hours", "Hour of day (camera clock"),
        ("days", "Day (month-day) in 2021"),
        ("map", "night & day (1)"),
    ):
        chart = client.get(f"/jobs/{job_id}/charts/{name}.svg")
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        assert "default-src 'none'" in chart.headers["Content-Security-Policy"]
        texts = [t.text or "" for t in ET.fromstring(chart.data).iter(f"{SVG}text")]
        assert any(t.startswith(words) for t in texts), texts
    assert client.get(f"/jobs/{job_id}/charts/nope.svg").status_code == 404
    assert client.get("/api/jobs/unknown-job-0000/insights").status_code == 404


def review(client, job_id: str) -> None:
    items = {
        m["path"]: m
        for m in client.get(f"/api/jobs/{job_id}/media?per_page=50").get_json()["media"]
    }
    a, b, c = items["cam1/a.jpg"], items["cam1/b.jpg"], items["night & day/c.jpg"]
    person_a = next(d for d in a["detections"] if d["category"] == "person")
    for body in (
        {"action": "reject", "detection_id": person_a["id"]},
        {"action": "accept", "media_id": b["id"]},
        {"action": "empty", "media_id": c["id"]},
    ):
        response = client.post(
            f"/api/jobs/{job_id}/reviews", json={**body, "reviewer": "Ana"}, headers=SCRIPT
        )
        assert response.status_code == 201, response.get_json()


@BOTH
def test_evaluation_against_the_review(client, run_worker, settings) -> None:
    job_id = survey(client, run_worker)
    empty = client.get(f"/api/jobs/{job_id}/evaluation").get_json()
    assert empty["images"] == 0 and "No image could be compared" in empty["warning"]
    review(client, job_id)
    # truth: a animal, b animal+person, c empty; machine at 0.4: a, b animal+person, c person
    report = client.get(f"/api/jobs/{job_id}/evaluation?recall=1&category=person").get_json()
    assert report["images"] == 3 and "3 image(s)" in report["warning"]
    rows = {r["category"]: r for r in report["categories"]}
    assert [rows["person"][k] for k in ("true_positives", "false_positives", "misses")] == [1, 2, 0]
    assert rows["animal"]["precision"] == 1.0 and rows["animal"]["recall"] == 1.0
    assert rows["non-empty"]["false_positives"] == 1
    assert report["confusion"]["animal"] == {"animal": 2, "person": 2, "vehicle": 0, "empty": 0}
    assert report["confusion"]["empty"] == {"animal": 0, "person": 1, "vehicle": 0, "empty": 0}
    boxes = {r["category"]: r for r in report["boxes"]}
    assert (boxes["animal"]["true_positives"], boxes["person"]["false_positives"]) == (2, 2)
    target = report["recall_target"]
    assert target["threshold"] == 0.5 and target["images_to_review"] == 4  # the whole job
    assert target["sentence"].startswith("use 0.5 for a recall of 100.0% of person")

    higher = client.get(f"/api/jobs/{job_id}/evaluation?threshold=0.6").get_json()
    person = next(r for r in higher["categories"] if r["category"] == "person")
    assert (person["true_positives"], person["misses"]) == (0, 1)
    # a recall as people write it: "100%", "100" and "1" are the same
    for written in ("100%25", "100"):
        same = client.get(f"/api/jobs/{job_id}/evaluation?recall={written}&category=person")
        assert same.get_json()["recall_target"] == target, written
    for bad in ("threshold=2", "recall=x", "recall=150", "recall=0%25", "category=bird"):
        assert client.get(f"/api/jobs/{job_id}/evaluation?{bad}").status_code == 400
    said = client.get(f"/api/jobs/{job_id}/evaluation?recall=x").get_json()["error"]
    assert said == "recall is a percentage (95%) or a fraction (0.95)"


@BOTH
def test_evaluation_against_an_uploaded_truth(client, run_worker, settings) -> None:
    job_id = survey(client, run_worker)
    truth = b"file,category\ncam1/a.jpg,Red fox\nb.jpg,empty\nelsewhere/z.jpg,animal\n"
    response = client.post(
        f"/api/jobs/{job_id}/evaluation",
        headers=SCRIPT,
        data={"truth": (io.BytesIO(truth), "truth.csv"), "recall": "0.5"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["images"] == 2 and report["truth"]["format"].startswith("CSV")
    animal = next(r for r in report["categories"] if r["category"] == "animal")
    assert [animal[k] for k in ("true_positives", "false_positives", "misses")] == [1, 1, 0]
    unpaired = report["unpaired"]
    assert unpaired["truth_without_result"]["files"] == ["elsewhere/z.jpg"]
    assert sorted(unpaired["results_without_truth"]["files"]) == ["night & day/c.jpg", "top.jpg"]

    bad = client.post(
        f"/api/jobs/{job_id}/evaluation",
        headers=SCRIPT,
        data={"truth": (io.BytesIO(b"name\nx\n"), "t.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "'file' column" in bad.get_json()["error"]
    forged = client.post(
        f"/api/jobs/{job_id}/evaluation",
        data={"truth": (io.BytesIO(truth), "truth.csv")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400  # neither the page's CSRF token nor a script's key


def test_accuracy_page_with_review_and_with_a_truth_file(client, run_worker) -> None:
    job_id = survey(client, run_worker)
    job_page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"/jobs/{job_id}/accuracy" in job_page and "cameras.geojson" in job_page
    page = client.get(f"/jobs/{job_id}/accuracy").get_data(as_text=True)
    assert "No image has been reviewed yet" in page
    review(client, job_id)
    page = client.get(f"/jobs/{job_id}/accuracy?recall=0.9&category=animal")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in text and "intersection over union" in text
    assert "you would review" in text and "3</strong> image(s) compared" in text
    truth = {"truth": (io.BytesIO(b"file,category\ncam1/a.jpg,animal\n"), "truth.csv")}
    forged = client.post(f"/jobs/{job_id}/accuracy", content_type="multipart/form-data", data=truth)
    assert forged.status_code == 400  # the page's form needs its CSRF token
    token = csrf_token(client)
    posted = client.post(
        f"/jobs/{job_id}/accuracy",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "threshold": "0.4",
            "category": "animal",
            "truth": (io.BytesIO(b"file,category\ncam1/a.jpg,animal\n"), "truth.csv"),
        },
    )
    text = posted.get_data(as_text=True)
    assert posted.status_code == 200 and 'id="truth-categories"' in text
    assert "Read as: CSV (file, category)" in text
    broken = client.post(
        f"/jobs/{job_id}/accuracy",
        content_type="multipart/form-data",
        data={"csrf_token": token, "truth": (io.BytesIO(b"{}"), "truth.json")},
    )
    assert broken.status_code == 400 and "not a COCO Camera Traps file" in broken.get_data(
        as_text=True
    )


@BOTH
def test_cameras_and_events_for_scripts(client, run_worker, settings) -> None:
    job_id = survey(client, run_worker)
    body = client.get(f"/api/jobs/{job_id}/events").get_json()
    assert (body["event_gap"], body["deployment_level"]) == (60.0, 1)
    assert [(d["id"], d["files"], d["events"]) for d in body["deployments"]] == [
        ("(top level)", 1, 1),
        ("cam1", 2, 2),
        ("night & day", 1, 1),
    ]
    cam1 = [e for e in body["events"] if e["deployment"] == "cam1"]
    assert [(e["files"], e["start"]) for e in cam1] == [
        (["cam1/a.jpg"], "2021-06-01T05:30:00"),
        (["cam1/b.jpg"], "2021-06-03T05:10:00"),
    ]
    assert cam1[0]["outcome"] == "animal+person" and cam1[0]["maxn"]["animal"] == 1
    top = next(e for e in body["events"] if e["deployment"] == "(top level)")
    assert top["note"] == "no capture time: an event of its own"
    # 1 day 23 h 40 min apart: one event only at a gap of two days
    wide = client.get(f"/api/jobs/{job_id}/events?event_gap=172800").get_json()
    assert [len(e["files"]) for e in wide["events"] if e["deployment"] == "cam1"] == [2]
    assert client.get(f"/api/jobs/{job_id}/events?event_gap=-1").status_code == 400
    assert client.get(f"/api/jobs/{job_id}/events?event_gap=700000").status_code == 400
    assert client.get(f"/api/jobs/{'A' * 32}/events").status_code == 404
