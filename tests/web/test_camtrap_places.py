"""Camtrap DP through the service: the cameras' UTC offset and coordinates sent with the upload,
or typed on the job page afterwards (a real RQ worker makes the package again); every package is
validated offline against the published 1.0.2 schemas."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.camtrap import descriptor, problems, rows
from tests.conftest import DATA
from tests.web.helpers import BURST, SCRIPT, form, zip_of

HERON = DATA / "camtrap-dp" / "example" / "media"


def card() -> bytes:
    """Two cameras as two folders: the heron burst's first frame and camtrapR's burst, real
    photos without GPS (under 500 kB in all: a larger body makes Werkzeug's test client spool
    it to a file it never closes)."""
    entries = {f"heron/{p.name}": p.read_bytes() for p in sorted(HERON.glob("*.JPG"))[:1]}
    entries |= {f"station-c/{p.name}": p.read_bytes() for p in sorted(BURST.glob("*.JPG"))}
    return zip_of(entries)


def upload(client, **fields) -> str:
    data = {**form(files=[(card(), "card.zip")]), **fields}
    with client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=SCRIPT
    ) as response:
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]


def package_of(client, job_id: str, into: Path) -> Path:
    with client.get(f"/download/{job_id}") as response:
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.data)) as z:
            z.extractall(into)
    return into / "camtrap-dp"


def test_offset_and_coordinates_with_the_upload(client, run_worker, tmp_path: Path) -> None:
    places = b"deployment,latitude,longitude\nheron,51.18,5.65\nstation-c,-1.5,35.2\n"
    job_id = upload(client, utc_offset="+02:00", deployments=(io.BytesIO(places), "cameras.csv"))
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["summary"]["camtrap_dp"]["valid"] is True, status["summary"]["camtrap_dp"]
    assert status["summary"]["camtrap_dp"]["checked"] is True  # by the model server itself
    package = package_of(client, job_id, tmp_path)
    assert problems(package) == []
    assert descriptor(package)["trapline"]["utcOffset"] == "+02:00"
    assert {
        d["deploymentID"]: (d["latitude"], d["longitude"]) for d in rows(package, "deployments")
    } == {"heron": ("51.18", "5.65"), "station-c": ("-1.5", "35.2")}
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "ready to publish" in page and 'id="places-form"' not in page
    assert "Checked on this server with the frictionless validator" in " ".join(page.split())
    cameras = client.get(f"/api/jobs/{job_id}/events").get_json()["deployments"]
    assert {c["id"]: c["given_coordinates"] for c in cameras} == {
        "heron": [51.18, 5.65],
        "station-c": [-1.5, 35.2],
    }
    check_places_in_every_output(client, job_id)


def check_places_in_every_output(client, job_id: str) -> None:
    """The coordinates given reach the Deployments sheet and CSV and the GeoJSON too, not only
    the Camtrap DP package (these photos carry no GPS at all)."""
    with client.get(f"/download/{job_id}") as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    with archive.open("deployments.csv") as fh:
        table = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8-sig")))
    assert {r["deployment"]: (r["latitude"], r["longitude"], r["position"]) for r in table} == {
        "heron": ("51.18", "5.65", "given by the uploader"),
        "station-c": ("-1.5", "35.2", "given by the uploader"),
    }
    book = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")), read_only=True)
    sheet = list(book["Deployments"].iter_rows(values_only=True))
    book.close()
    header = list(sheet[0])
    sheet_places = {
        row[header.index("deployment")]: (
            row[header.index("latitude")],
            row[header.index("longitude")],
        )
        for row in sheet[1:]
    }
    assert sheet_places == {"heron": (51.18, 5.65), "station-c": (-1.5, 35.2)}
    with client.get(f"/api/jobs/{job_id}/cameras.geojson") as geo:
        features = geo.get_json()["features"]
    assert {
        f["properties"]["folder"]: (f["geometry"]["coordinates"], f["properties"]["position"])
        for f in features
    } == {
        "heron": ([5.65, 51.18], "given by the uploader"),
        "station-c": ([35.2, -1.5], "given by the uploader"),
    }


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_coordinates_typed_on_the_job_page(client, run_worker, tmp_path: Path) -> None:
    job_id = upload(client)
    run_worker()
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "not valid for publication" in page
    assert "2 deployment(s) without coordinates: heron, station-c" in page
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    token = found.group(1)
    assert re.findall(r'name="deployment" value="([^"]+)"', page) == ["heron", "station-c"]
    # a form without its CSRF token is refused; a bad latitude is refused and saves nothing
    fields = {
        "deployment": ["heron", "station-c"],
        "latitude": ["51.18", ""],
        "longitude": ["5.65", ""],
        "utc_offset": "+01:00",
    }
    assert client.post(f"/api/jobs/{job_id}/deployments", data=fields).status_code == 400
    bad = client.post(
        f"/api/jobs/{job_id}/deployments",
        headers={"Accept": "text/html"},
        data={**fields, "latitude": ["95", ""], "csrf_token": token},
    )
    assert bad.status_code == 303
    again = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Not saved: heron: latitude must be -90 to 90" in again
    saved = client.post(
        f"/api/jobs/{job_id}/deployments",
        headers={"Accept": "text/html"},
        data={**fields, "csrf_token": token},
    )
    assert saved.status_code == 303
    run_worker()  # the export
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "1 deployment(s) without coordinates: station-c" in page
    assert re.findall(r'name="deployment" value="([^"]+)"', page) == ["station-c"]
    # the rest by a script, as CSV
    script = client.post(
        f"/api/jobs/{job_id}/deployments",
        data="station-c,-1.5,35.2\n",
        content_type="text/csv",
        headers={"X-API-Key": "a script"},
    )
    assert script.status_code == 202, script.get_json()
    assert script.get_json()["places"] == {"heron": [51.18, 5.65], "station-c": [-1.5, 35.2]}
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["summary"]["camtrap_dp"]["valid"] is True
    package = package_of(client, job_id, tmp_path)
    assert problems(package) == []
    media = rows(package, "media")
    assert len(media) == 4 and all(m["timestamp"].endswith("+01:00") for m in media)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"utc_offset": "+25:00"}, "UTC offset"),
        ({"deployments": "heron,51.2\n"}, "line 1: expected deployment,latitude,longitude"),
        ({"deployments": "heron,0,0\n"}, "unset GPS"),
    ],
)
def test_bad_camtrap_choices_are_refused_at_upload(client, fields, words) -> None:
    data = {**form(files=[(card(), "card.zip")]), **fields}
    with client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=SCRIPT
    ) as response:
        assert response.status_code == 400 and words in response.get_json()["error"]


def test_coordinates_wait_for_a_finished_job(client) -> None:
    job_id = upload(client)  # queued, no worker ran
    response = client.post(
        f"/api/jobs/{job_id}/deployments",
        headers={"X-API-Key": "k"},
        data=json.dumps({"places": {"heron": [51.2, 5.6]}}),
        content_type="application/json",
    )
    assert response.status_code == 409 and "with the upload" in response.get_json()["error"]
