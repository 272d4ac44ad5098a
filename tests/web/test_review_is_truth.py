"""What a reviewer decides is what every figure counts (issue 27, item 1), through the service
with a real worker on both databases: after a review, the summary, the folder table, the
dashboard, the GeoJSON, the events API, the Excel Summary and Events sheets, events.csv and the
Camtrap DP package (validated against the published schemas) agree with the review, say how
much of each figure was reviewed, and keep one consensus per media and per event."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from tests.camtrap import problems, rows
from tests.web.helpers import SCRIPT
from tests.web.test_camtrap_places import package_of, upload
from tests.web.test_review_api import act, media

PLACES = b"deployment,latitude,longitude\nheron,51.18,5.65\nstation-c,-1.5,35.2\n"
PAIR = (
    "station-c/StationC__2009-04-11__21-46-00(1).JPG",
    "station-c/StationC__2009-04-11__21-46-00(2).JPG",
)
ALONE = "station-c/StationC__2009-04-11__21-44-00(1).JPG"
LEOPARD = "Panthera pardus"


def reviewed_card(client, run_worker) -> str:
    """The test model sees a person in every photo and no animal in these real ones. The
    reviewer marks the 21:46 pair empty and draws a leopard on the 21:44 photo (its person is
    kept as the model saw it); the heron photo is left as the model saw it."""
    job_id = upload(client, deployments=(io.BytesIO(PLACES), "cameras.csv"))
    run_worker()
    found = media(client, job_id)
    for path in PAIR:
        code, body = act(client, job_id, action="empty", media_id=found[path]["id"])
        assert code == 201, body
    code, body = act(
        client,
        job_id,
        action="add",
        media_id=found[ALONE]["id"],
        category="animal",
        bbox=[0.4, 0.4, 0.2, 0.2],
        species=LEOPARD,
    )
    assert code == 201, body
    return job_id


def check_site(client, job_id: str) -> None:
    summary = client.get(f"/api/jobs/{job_id}/summary").get_json()
    assert summary["images"] == 4 and summary["basis"] == "mixed"
    assert summary["reviewed"]["images"] == 3
    assert summary["outcomes"]["empty"] == 2 and summary["reviewed"]["outcomes"]["empty"] == 2
    assert summary["outcomes"]["person"] == 2 and summary["reviewed"]["outcomes"]["person"] == 1
    assert summary["outcomes"]["animal"] == 1
    assert summary["categories"]["animal"]["detections"] == 1  # the box the reviewer drew
    assert summary["categories"]["person"]["detections"] == 2
    folders = {f["folder"]: f for f in summary["folders"]}
    assert (folders["station-c"]["reviewed"], folders["station-c"]["empty"]) == (3, 2)
    assert folders["station-c"]["basis"] == "reviewed" and folders["heron"]["basis"] == "machine"

    cameras = {
        c["folder"]: c for c in client.get(f"/api/jobs/{job_id}/insights").get_json()["cameras"]
    }
    assert (cameras["station-c"]["person"], cameras["station-c"]["animal"]) == (1, 1)
    assert cameras["station-c"]["reviewed"] == 3 and cameras["heron"]["reviewed"] == 0

    features = client.get(f"/api/jobs/{job_id}/cameras.geojson").get_json()["features"]
    props = {f["properties"]["folder"]: f["properties"] for f in features}
    assert props["station-c"]["person_detections"] == 1
    assert props["station-c"]["animal_detections"] == 1
    assert props["station-c"]["counts_from"] == "reviewed"
    assert props["heron"]["counts_from"] == "machine"

    listed = client.get(f"/api/jobs/{job_id}/events").get_json()["events"]
    by_files = {tuple(e["files"]): e for e in listed}
    pair = by_files[PAIR]
    assert (pair["outcome"], pair["counts_from"], pair["reviewed"]) == ("empty", "reviewed", 2)
    assert pair["maxn"] == {"animal": 0, "person": 0, "vehicle": 0}
    alone = by_files[(ALONE,)]
    assert alone["outcome"] == "animal+person" and alone["species"] == {LEOPARD: 1}
    assert by_files[next(f for f in by_files if f[0].startswith("heron/"))]["counts_from"] == (
        "machine"
    )


def sheet(archive: zipfile.ZipFile, name: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")), read_only=True)
    found = list(book[name].iter_rows(values_only=True))
    book.close()
    return found


def check_reports(archive: zipfile.ZipFile) -> None:
    with archive.open("events.csv") as fh:
        table = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8-sig")))
    by_first = {r["first_file"]: r for r in table}
    pair = by_first[PAIR[0]]
    assert (pair["outcome"], pair["persons_maxn"], pair["counts_from"]) == (
        "empty",
        "0",
        "reviewed",
    )
    assert pair["reviewed_files"] == "2"
    alone = by_first[ALONE]
    assert (alone["outcome"], alone["animals_maxn"], alone["species"]) == (
        "animal+person",
        "1",
        f"{LEOPARD} (1)",
    )
    events = sheet(archive, "Events")
    header = list(events[0])
    assert {r[header.index("first_file")]: r[header.index("outcome")] for r in events[1:]} == {
        r["first_file"]: r["outcome"] for r in table
    }
    summary = {r[0]: r[1:] for r in sheet(archive, "Summary")[1:] if r[0]}
    assert summary["Media: empty"][:2] == (2, "all reviewed")
    assert summary["Media: person"][:2] == (1, None)  # the heron photo, which nobody reviewed
    assert summary["Media: animal+person"][:2] == (1, "all reviewed")
    assert summary["Events: empty"][:2] == (1, "all with a reviewed file")
    assert "3 of 4 files reviewed" in summary["Counts from"][0]
    # the machine's own values stay in the Detections sheet's AI columns
    detections = sheet(archive, "Detections")
    header = list(detections[0])
    machine = [
        r
        for r in detections[1:]
        if r[header.index("file")] in PAIR and r[header.index("source")] == "machine"
    ]
    assert {r[header.index("category")] for r in machine} >= {"person"}
    assert {r[header.index("review")] for r in machine} == {"rejected"}


def check_package(package: Path) -> None:
    assert problems(package) == []
    observations = rows(package, "observations")
    media_ids = {m["filePath"]: m["mediaID"] for m in rows(package, "media")}
    per_media: dict[str, list[dict]] = defaultdict(list)
    per_event: dict[str, list[dict]] = defaultdict(list)
    for o in observations:
        if o["observationLevel"] == "media":
            per_media[o["mediaID"]].append(o)
        else:
            per_event[o["eventID"]].append(o)
    # one consensus per media and per event: one method, and blank never beside a finding
    for found in (*per_media.values(), *per_event.values()):
        assert len({o["classificationMethod"] for o in found}) == 1, found
        kinds = {o["observationType"] for o in found}
        assert "blank" not in kinds or kinds == {"blank"}, found
    for path in PAIR:
        assert [o["observationType"] for o in per_media[media_ids[path]]] == ["blank"]
        assert per_media[media_ids[path]][0]["classificationMethod"] == "human"
    pair_event = per_media[media_ids[PAIR[0]]][0]["eventID"]
    assert [(o["observationType"], o["classificationMethod"]) for o in per_event[pair_event]] == [
        ("blank", "human")
    ]
    alone_event = per_media[media_ids[ALONE]][0]["eventID"]
    assert sorted(
        (o["observationType"], o["scientificName"], o["count"], o["classificationMethod"])
        for o in per_event[alone_event]
    ) == [("animal", LEOPARD, "1", "human"), ("human", "", "1", "human")]


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_every_figure_follows_the_review(client, run_worker, tmp_path: Path) -> None:
    job_id = reviewed_card(client, run_worker)
    check_site(client, job_id)
    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=SCRIPT).status_code == 202
    run_worker()
    with client.get(f"/download/{job_id}") as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    check_reports(archive)
    check_package(package_of(client, job_id, tmp_path))
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["summary"]["camtrap_dp"]["valid"] is True


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_an_event_tagged_at_once(client, run_worker, tmp_path: Path) -> None:
    """Issue 27, item 3 through the API: the species and the confirmed count reach every file
    of the event, the Events table and Camtrap DP; one undo takes all of it back."""
    job_id = upload(client, deployments=(io.BytesIO(PLACES), "cameras.csv"))
    run_worker()
    listed = client.get(f"/api/jobs/{job_id}/events").get_json()["events"]
    pair = next(e for e in listed if tuple(e["files"]) == PAIR)
    code, tagged = act(
        client, job_id, action="tag_event", event=pair["id"], species=LEOPARD, count=4
    )
    assert code == 201, tagged
    assert (tagged["images"], tagged["count"]) == (2, 4)
    refused, said = act(client, job_id, action="tag_event", event=pair["id"], count="many")
    assert refused == 400 and said["error"] == "count is a whole number"
    found = media(client, job_id)
    assert all(found[p]["review"] == "accepted" for p in PAIR)
    again = next(
        e
        for e in client.get(f"/api/jobs/{job_id}/events").get_json()["events"]
        if e["id"] == pair["id"]
    )
    assert again["confirmed"] == {"species": LEOPARD, "count": 4, "reviewer": "Ana", "fields": {}}
    assert again["outcome"] == "animal+person"  # the person the model saw was accepted too
    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=SCRIPT).status_code == 202
    run_worker()
    with client.get(f"/download/{job_id}") as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    with archive.open("events.csv") as fh:
        table = {r["first_file"]: r for r in csv.DictReader(io.TextIOWrapper(fh, "utf-8-sig"))}
    row = table[PAIR[0]]
    assert (row["confirmed_species"], row["confirmed_count"], row["confirmed_by"]) == (
        LEOPARD,
        "4",
        "Ana",
    )
    package = package_of(client, job_id, tmp_path)
    assert problems(package) == []
    event_rows = [
        (o["observationType"], o["scientificName"], o["count"], o["classificationMethod"])
        for o in rows(package, "observations")
        if o["observationLevel"] == "event" and o["eventID"] == pair["id"]
    ]
    assert sorted(event_rows) == [("animal", LEOPARD, "4", "human"), ("human", "", "1", "human")]
    code, undone = act(client, job_id, action="undo_bulk", batch=tagged["batch"])
    assert code == 200 and undone["undone"] == 2
    back = media(client, job_id)
    assert all(back[p]["review"] == "" for p in PAIR)
    events = client.get(f"/api/jobs/{job_id}/events").get_json()["events"]
    assert next(e for e in events if e["id"] == pair["id"])["confirmed"] is None
