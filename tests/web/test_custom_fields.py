"""A project's own fields (issue 27, item 4), through the site with a real worker on both
databases: the owner defines them (as lines on the page or JSON by the API, each checked), a
reviewer sets them on a box and on a whole event, undo takes a box's back, and they come out
as columns of the Detections and Events sheets and CSVs and in Camtrap DP's own observation
fields (frictionless passes the package)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from shared.people.errors import PeopleError
from shared.surveys.custom_fields import CustomField, camtrap_values, checked_values, parsed
from tests.camtrap import problems, rows
from tests.web.test_survey_locations import PHOTOS, send

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
LINES = """sex: choice(female, male) -> sex
age class: choice(adult, subadult, juvenile) -> lifeStage
behaviour: text -> behavior
individual: text -> individualID
note: text -> observationComments
group size: number
"""


def test_fields_as_people_type_them() -> None:
    found = parsed(LINES)
    assert [f.line() for f in found] == [line for line in LINES.splitlines()]
    assert found[5] == CustomField("group size", "number")
    for bad, said in [
        ("age: choice(adult, calf) -> lifeStage", "lifeStage is one of adult, subadult"),
        ("sex: text -> sex", "make it choice(female, male)"),
        ("species: text", "cannot name a field"),
        ("mood: choice()", "a choice lists its values"),
        ("a: text\nA: number", "Each field has its own name"),
        ("a: text -> behavior\nb: text -> behavior", "one project field at most"),
        ("size: huge", "write a field as"),
        ("id: number -> individualID", "an individual's id is text"),
    ]:
        with pytest.raises(PeopleError, match=re.escape(said)):
            parsed(bad)
    values = checked_values(found, {"sex": "female", "group size": "3", "note": "  limping  "})
    assert values == {"sex": "female", "group size": 3.0, "note": "limping"}
    with pytest.raises(PeopleError, match="sex is one of female, male"):
        checked_values(found, {"sex": "f"})
    with pytest.raises(PeopleError, match="not one of this project's fields"):
        checked_values(found, {"colour": "red"})
    assert camtrap_values(found, {**values, "behaviour": "grazing"}) == {
        "sex": "female",
        "behavior": "grazing",
        "observationComments": "limping",
        "observationTags": "group size:3",
    }


def table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(name) as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8-sig")))


@BOTH
def test_fields_from_the_viewer_to_every_output(client, team, run_worker, tmp_path: Path) -> None:
    url = f"/api/projects/{team.p1.id}"
    refused = client.patch(url, json={"fields": "sex: text -> sex"}, headers=team.auth("alice"))
    assert refused.status_code == 400 and "choice(female, male)" in refused.get_json()["error"]
    assert client.patch(url, json={"fields": LINES}, headers=team.auth("rita")).status_code == 403
    saved = client.patch(url, json={"fields": LINES}, headers=team.auth("alice"))
    assert saved.status_code == 200
    assert [f["name"] for f in saved.get_json()["settings"]["fields"]][:2] == ["sex", "age class"]
    place = (io.BytesIO(b"deployment,latitude,longitude\nStationC,-1.5,35.2\n"), "cameras.csv")
    entries = {f"StationC/{p.name}": p.read_bytes() for p in PHOTOS}
    sent = send(client, team, "alice", entries, deployments=place)  # type: ignore[arg-type]
    assert sent.status_code == 201
    job_id = sent.get_json()["id"]
    run_worker()
    page = client.get(f"/jobs/{job_id}", headers=team.auth("rita")).get_data(as_text=True)
    assert "data-fields=" in page and "&#34;age class&#34;" in page
    rita = team.auth("rita")
    media = {
        m["path"]: m
        for m in client.get(f"/api/jobs/{job_id}/media?per_page=50", headers=rita).get_json()[
            "media"
        ]
    }
    alone = media[f"StationC/{PHOTOS[0].name}"]  # the 21:44 photo, an event of its own
    box = alone["detections"][0]["id"]  # the person the test model always sees

    def act(**body):
        response = client.post(f"/api/jobs/{job_id}/reviews", json=body, headers=rita)
        return response.status_code, response.get_json()

    code, said = act(action="fields", detection_id=box, fields={"sex": "f"})
    assert code == 400 and said["error"] == "sex is one of female, male."
    code, first = act(action="fields", detection_id=box, fields={"sex": "female", "note": "x"})
    assert code == 201, first
    code, second = act(
        action="fields", detection_id=box, fields={"note": "limping", "age class": "adult"}
    )
    assert code == 201
    assert second["media"]["detections"][0]["fields"] == {
        "sex": "female",
        "note": "limping",
        "age class": "adult",
    }
    code, _ = act(action="undo", review_id=second["review_id"])
    again = client.get(f"/api/jobs/{job_id}/media/{alone['id']}", headers=rita).get_json()
    assert again["detections"][0]["fields"] == {"sex": "female", "note": "x"}
    act(action="fields", detection_id=box, fields={"note": "limping", "group size": 2})
    events = client.get(f"/api/jobs/{job_id}/events", headers=rita).get_json()["events"]
    pair = next(e for e in events if len(e["files"]) == 2)
    code, tagged = act(
        action="tag_event",
        event=pair["id"],
        species="Panthera pardus",
        count=2,
        fields={"behaviour": "grazing", "individual": "F12"},
    )
    assert code == 201 and tagged["fields"] == {"behaviour": "grazing", "individual": "F12"}
    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=rita).status_code == 202
    run_worker()
    with client.get(f"/download/{job_id}", headers=rita) as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    detections = {
        r["file"]: r
        for r in table(archive, "detections.csv")
        if r["source"] == "machine" and r["category"] == "person"
    }
    row = detections[alone["path"]]
    assert (row["sex"], row["note"], row["group size"], row["age class"]) == (
        "female",
        "limping",
        "2.0",
        "",
    )
    event_row = next(r for r in table(archive, "events.csv") if r["event_id"] == pair["id"])
    assert (event_row["behaviour"], event_row["individual"]) == ("grazing", "F12")
    book = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")), read_only=True)
    header = next(book["Detections"].iter_rows(values_only=True))
    events_header = next(book["Events"].iter_rows(values_only=True))
    book.close()
    assert header[-6:] == ("sex", "age class", "behaviour", "individual", "note", "group size")
    assert "individual" in events_header
    archive.extractall(tmp_path)
    package = tmp_path / "camtrap-dp"
    assert problems(package) == []
    observations = rows(package, "observations")
    media_ids = {m["filePath"]: m["mediaID"] for m in rows(package, "media")}
    mine = next(
        o
        for o in observations
        if o["mediaID"] == media_ids[alone["path"]] and o["observationType"] == "human"
    )
    assert (mine["sex"], mine["observationComments"], mine["observationTags"]) == (
        "female",
        "limping",
        "group size:2",
    )
    tagged_rows = [
        o for o in observations if o["observationLevel"] == "event" and o["eventID"] == pair["id"]
    ]
    assert {(o["behavior"], o["individualID"]) for o in tagged_rows} == {("grazing", "F12")}
