"""One export of a whole survey, through the site with a real worker, on both databases: two
cards of one camera and a second camera make one zip whose Camtrap DP package has a deployment
per location and card, every card's media, the reviewer's name on what she reviewed and one
event across the card swap; frictionless passes it; the roles hold on every export URL."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from shared.contract import load_state
from shared.surveys.project_exports import export_record
from tests.camtrap import problems
from tests.web.helpers import SCRIPT
from tests.web.test_survey_locations import PHOTOS, send, two_cards

UNLOCATED_OR_UNTIMED = ("spatial", "latitude", "longitude", "Start", "End", "timestamp")
BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


def _table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(name) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        return list(csv.DictReader(text))


@BOTH
def test_one_export_of_the_whole_survey(client, team, run_worker, redis_conn, tmp_path) -> None:
    url = f"/api/projects/{team.p1.id}"
    assert client.post(f"{url}/exports", headers=team.auth("rita")).status_code == 409  # no card
    first, second = two_cards(client, team)
    run_worker()
    gap = client.patch(url, json={"event_gap": 180}, headers=team.auth("alice"))
    assert gap.status_code == 200
    media = client.get(f"{url}/media?order=path", headers=team.auth("rita")).get_json()["media"]
    reviewed = next(m for m in media if m["job"] == second)
    done = client.post(
        f"{url}/reviews",
        json={"action": "empty", "media_id": reviewed["id"]},
        headers=team.auth("rita"),
    )
    assert done.status_code == 201
    # who may do what, before anything is made
    assert client.post(f"{url}/exports", headers=SCRIPT).status_code == 401
    assert client.post(f"{url}/exports", headers=team.auth("bob")).status_code == 404
    assert client.post(f"{url}/exports", headers=team.auth("vic")).status_code == 403
    assert client.get(f"{url}/exports", headers=team.auth("ulla")).status_code == 403
    assert client.get(f"{url}/download", headers=team.auth("vic")).status_code == 404
    assert client.get(f"{url}/exports", headers=team.auth("vic")).get_json()["state"] == "none"

    queued = client.post(f"{url}/exports", headers=team.auth("rita"))
    assert queued.status_code == 202 and queued.get_json()["state"] == "queued", queued.get_json()
    again = client.post(f"{url}/exports", headers=team.auth("alice"))
    assert again.status_code == 409 and "already under way" in again.get_json()["error"]
    record = export_record(redis_conn, team.p1.id)
    assert record is not None and record.project == team.p1.id and record.total == 4
    # the record is no upload: no job URL answers for it
    assert client.get(f"/api/jobs/{record.id}", headers=team.auth("alice")).status_code == 404
    assert client.get(f"/jobs/{record.id}", headers=team.auth("alice")).status_code == 404
    run_worker()

    status = client.get(f"{url}/exports", headers=team.auth("vic")).get_json()
    assert status["state"] == "done" and status["error"] is None, status
    summary = status["summary"]
    assert (summary["cards"], summary["images"], summary["reviewed"]) == (2, 4, 1)
    assert summary["camtrap_dp"]["checked"] and summary["camtrap_dp"]["valid"] is False
    said = " ".join(summary["camtrap_dp"]["problems"])
    assert "without coordinates" in said and "without a capture time" in said
    after = load_state(redis_conn, record.id)
    assert after is not None and after.follow_up == ""
    got = client.get(f"{url}/download", headers=team.auth("vic"))
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert f"-{team.p1.id}.zip" in got.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(got.get_data()))
    got.close()
    names = set(archive.namelist())
    assert {"report.xlsx", "detections.json", "images.csv", "events.csv"} <= names
    assert {f"camtrap-dp/{t}.csv" for t in ("deployments", "media", "observations")} <= names

    deployments = _table(archive, "camtrap-dp/deployments.csv")
    assert [(d["deploymentID"], d["locationName"]) for d in deployments] == [
        ("B013 #1", "B013"),
        ("StationC #1", "StationC"),
        ("StationC #2", "StationC"),
    ]
    assert len({d["locationID"] for d in deployments}) == 2  # two cameras, not three
    assert [d["deploymentStart"] for d in deployments[1:]] == [
        "2009-04-11T21:44:00Z",
        "2009-04-11T21:46:00Z",
    ]
    files = _table(archive, "camtrap-dp/media.csv")
    assert len(files) == 4 and len({f["mediaID"] for f in files}) == 4
    by_card = {f["filePath"].split("/", 1)[0] for f in files}
    assert by_card == {first[:12], second[:12]}
    observations = _table(archive, "camtrap-dp/observations.csv")
    station = [
        o
        for o in observations
        if o["observationLevel"] == "media" and "StationC" in o["deploymentID"]
    ]
    assert len({o["eventID"] for o in station}) == 1  # the burst across the card swap is one event
    (event,) = {
        o["deploymentID"]
        for o in observations
        if o["observationLevel"] == "event" and o["eventID"] == station[0]["eventID"]
    }
    assert event == "StationC #1"
    hers = [o for o in observations if o["classificationMethod"] == "human"]
    assert hers and {o["classifiedBy"] for o in hers} == {"rita"}
    package = json.loads(archive.read("camtrap-dp/datapackage.json"))
    assert (
        package["id"] == f"project-{team.p1.id}"
        and "Every card of the survey" in package["description"]
    )
    folder = tmp_path / "package"
    archive.extractall(folder)
    # frictionless, offline, over the published schemas: only what Trapline said stands between
    # this package and publication, no coordinates and B013's photo without a capture time (the
    # second test registers coordinates and leaves that photo out)
    found = problems(folder / "camtrap-dp")
    assert found and all(any(word in p.message for word in UNLOCATED_OR_UNTIMED) for p in found), (
        found
    )
    assert client.get(f"{url}/download", headers=team.auth("bob")).status_code == 404
    assert client.get(f"{url}/download").status_code == 401
    log = client.get(f"{url}/audit", headers=team.auth("alice")).get_json()["entries"]
    assert [e["detail"] for e in log if e["action"] == "export"] == [{"cards": 2, "files": 4}]


@BOTH
def test_located_cameras_make_a_package_fit_to_publish(client, team, run_worker, tmp_path) -> None:
    url = f"/api/projects/{team.p1.id}"
    for name, lat, lon in (("StationC", -22.91, -43.17), ("Ridge", 31.9, -110.8)):
        body = {"name": name, "latitude": lat, "longitude": lon, "camera_height": 0.5}
        assert (
            client.post(f"{url}/deployments", json=body, headers=team.auth("alice")).status_code
            == 201
        )
    for photos in (PHOTOS[:1], PHOTOS[1:]):
        sent = send(client, team, "alice", {f"StationC/{p.name}": p.read_bytes() for p in photos})
        assert sent.status_code == 201
    run_worker()
    assert client.post(f"{url}/exports", headers=team.auth("alice")).status_code == 202
    run_worker()
    summary = client.get(f"{url}/exports", headers=team.auth("alice")).get_json()["summary"]
    assert summary["camtrap_dp"]["valid"] is True, summary["camtrap_dp"]
    got = client.get(f"{url}/download", headers=team.auth("alice"))
    archive = zipfile.ZipFile(io.BytesIO(got.get_data()))
    got.close()
    archive.extractall(tmp_path)
    assert problems(tmp_path / "camtrap-dp") == []  # frictionless finds nothing
    deployments = {d["deploymentID"]: d for d in _table(archive, "camtrap-dp/deployments.csv")}
    assert deployments["StationC #2"]["latitude"] == "-22.91"
    assert deployments["StationC #2"]["cameraHeight"] == "0.5"
    assert sorted(deployments) == ["StationC #1", "StationC #2"]  # Ridge has no card yet
    assert "registered for the location" in deployments["StationC #1"]["deploymentComments"]
    page = client.get(f"/projects/{team.p1.id}", headers=team.auth("vic")).get_data(as_text=True)
    assert 'id="project-download"' in page and "Camtrap DP valid" in page
    assert 'id="export-project"' not in page  # a viewer downloads; she does not export
