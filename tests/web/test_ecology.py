"""A small survey through the site with a real worker, on both databases: real photos whose
EXIF times are rewritten in the test's own copies (a red patch marks the animals for the test
detector), two located cameras, a person's operation gap and a silence found, then trap nights,
events per 100 trap nights, a detection history with NA occasions, sun times and the project
export's ecology files, Excel sheets and Camtrap DP comments (frictionless passes)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

import openpyxl
import piexif
import pytest
from PIL import Image
from sqlalchemy import select, update

from shared.store.schema import detections, media
from tests.camtrap import problems
from tests.web.helpers import BURST, SCRIPT
from tests.web.test_survey_locations import send

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
LONDON, OXFORD = (51.5074, -0.1278), (51.752, -1.2577)
# (location, capture time, an animal in it?)
SURVEY = [
    ("North", "2026:06:01 22:00:00", True),
    ("North", "2026:06:04 10:00:00", False),
    ("North", "2026:06:08 22:00:00", True),
    ("North", "2026:06:14 23:00:00", False),
    ("South", "2026:06:01 12:00:00", False),
    ("South", "2026:06:02 12:00:00", True),
    ("South", "2026:06:10 12:00:00", False),
    ("South", "2026:06:14 12:00:00", False),
]


def copy_of(source: bytes, when: str, animal: bool) -> bytes:
    """The real photo (a 100 x 75 camtrapR example) with its capture time rewritten, its
    other EXIF kept."""
    exif = piexif.load(source)
    exif["Exif"][piexif.ExifIFD.DateTimeOriginal] = when.encode()
    exif.pop("thumbnail", None)
    exif["1st"] = {}
    image = Image.open(io.BytesIO(source)).convert("RGB")
    if animal:
        w, h = image.size
        image.paste((255, 0, 0), (w * 2 // 5, h * 2 // 5, w * 3 // 5, h * 3 // 5))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=piexif.dump(exif))
    return out.getvalue()


def cards(client, team) -> dict[str, str]:
    photos = sorted(BURST.glob("*.JPG"))
    job_ids = {}
    for place in ("North", "South"):
        mine = [(when, animal) for loc, when, animal in SURVEY if loc == place]
        entries = {
            f"{place}/IMG_{i:04d}.JPG": copy_of(photos[i % len(photos)].read_bytes(), when, animal)
            for i, (when, animal) in enumerate(mine)
        }
        sent = send(client, team, "alice", entries)
        assert sent.status_code == 201, sent.get_json()
        job_ids[place] = sent.get_json()["id"]
    return job_ids


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@BOTH
def test_a_surveys_effort_abundance_history_and_activity(
    app, client, team, run_worker, tmp_path
) -> None:
    url = f"/api/projects/{team.p1.id}"
    alice, rita, vic = team.auth("alice"), team.auth("rita"), team.auth("vic")
    assert client.patch(url, json={"utc_offset": "+01:00"}, headers=alice).status_code == 200
    for name, (lat, lon) in (("North", LONDON), ("South", OXFORD)):
        body = {"name": name, "latitude": lat, "longitude": lon}
        assert client.post(f"{url}/deployments", json=body, headers=alice).status_code == 201
    job_ids = cards(client, team)
    run_worker()
    locations = {
        loc["name"]: loc["id"]
        for loc in client.get(f"{url}/deployments", headers=vic).get_json()["locations"]
    }
    # North's camera was knocked over on 5-7 June: rita records it
    gap = {"start": "2026-06-05T00:00:00", "end": "2026-06-07T00:00:00", "reason": "knocked"}
    gaps_url = f"{url}/locations/{locations['North']}/gaps"
    assert client.post(gaps_url, json=gap, headers=vic).status_code == 403
    assert client.post(gaps_url, json=gap, headers=team.auth("bob")).status_code == 404
    assert client.post(gaps_url, json=gap, headers=SCRIPT).status_code == 401
    backwards = {**gap, "end": "2026-06-04T00:00:00"}
    refused = client.post(gaps_url, json=backwards, headers=rita)
    assert refused.status_code == 400 and "ends after it starts" in refused.get_json()["error"]
    made = client.post(gaps_url, json=gap, headers=rita)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["by"] == "rita"

    effort = client.get(f"{url}/effort", headers=vic).get_json()
    by_name = {e["name"]: e for e in effort["locations"]}
    # North: 1 June 22:00 to 14 June 23:00 (13 d 1 h) less 2 days
    assert by_name["North"]["trap_nights"] == pytest.approx(11 + 1 / 24, abs=1e-4)
    assert [g["reason"] for g in by_name["North"]["gaps"]] == ["knocked"]
    # South: 1 June 12:00 to 14 June 12:00, silent 2-10 June while North had a file
    assert by_name["South"]["trap_nights"] == pytest.approx(5, abs=1e-4)
    (silent,) = by_name["South"]["gaps"]
    assert (silent["start"], silent["end"], silent["found"]) == (
        "2026-06-02T12:00:00",
        "2026-06-10T12:00:00",
        True,
    )

    # the South event is named by its reviewer; the others stay "animal"
    south = client.get(f"/api/jobs/{job_ids['South']}/events", headers=rita).get_json()["events"]
    event = next(e for e in south if e["maxn"]["animal"])
    tagged = client.post(
        f"/api/jobs/{job_ids['South']}/reviews",
        json={"action": "tag_event", "event": event["id"], "species": "Vulpes vulpes", "count": 2},
        headers=rita,
    )
    assert tagged.status_code == 201, tagged.get_json()

    # a class set's suggestion names North's second animal (as a species job stores it)
    store = app.extensions["trapline.store"]
    with store.begin() as conn:
        second = select(media.c.id).where(
            media.c.job_id == job_ids["North"], media.c.path == "North/IMG_0002.JPG"
        )
        conn.execute(
            update(detections)
            .where(detections.c.media_id.in_(second), detections.c.category == "1")
            .values(suggested_species="Meles meles")
        )
    rows = client.get(f"{url}/abundance?interval=30", headers=vic).get_json()["rows"]
    found = {(r["location"], r["species"]): r for r in rows}
    assert found[("North", "animal")]["events"] == 1
    assert found[("North", "Meles meles")]["events"] == 1
    assert found[("North", "animal")]["rai"] == pytest.approx(100 / (11 + 1 / 24), abs=1e-3)
    assert found[("South", "Vulpes vulpes")]["rai"] == pytest.approx(20)
    assert found[("South", "Vulpes vulpes")]["individuals"] == 2
    assert found[("(survey)", "animal")]["trap_nights"] == pytest.approx(16 + 1 / 24, abs=1e-3)
    bad = client.get(f"{url}/abundance?interval=7", headers=vic)
    assert bad.status_code == 400 and "1, 5, 30, 60" in bad.get_json()["error"]

    history = client.get(f"{url}/detection-history?species=animal&format=csv", headers=vic)
    assert history.status_code == 200 and history.mimetype == "text/csv"
    # North worked 4.08 and 6.96 days of the two weeks, an "animal" in the first (the second
    # week's is a badger now); South's weeks are 1 and 4 days of work: NA (below half) and 0
    assert csv_rows(history.get_data(as_text=True)) == [
        ["location", "o1", "o2"],
        ["North", "1", "0"],
        ["South", "NA", "0"],
    ]
    fox = client.get(
        f"{url}/detection-history?species=Vulpes+vulpes&occasion_days=7", headers=vic
    ).get_json()
    assert fox["detected"] == [[0, 0], [None, 0]]  # the fox fell in South's NA week
    assert fox["effort"][1] == [1, 4]
    assert client.get(f"{url}/detection-history", headers=vic).status_code == 400

    activity = client.get(f"{url}/activity?species=animal", headers=vic).get_json()
    first = activity["events"][0]
    assert (first["location"], first["start"]) == ("North", "2026-06-01T22:00:00")
    sunset = datetime.fromisoformat(first["sunset"])
    assert sunset.date().isoformat() == "2026-06-01" and 20 <= sunset.hour <= 21  # BST
    hours_after = 22 - (sunset.hour + sunset.minute / 60 + sunset.second / 3600)
    assert first["from_sunset"] == pytest.approx(hours_after, abs=1e-3)
    assert first["sun_hours"] == pytest.approx(
        18 + hours_after * 6 / (24 - 22 + hours_after), abs=1e-3
    )

    page = client.get(f"/projects/{team.p1.id}/ecology", headers=vic).get_data(as_text=True)
    assert 'id="effort"' in page and "Vulpes vulpes" in page
    chart = client.get(f"/projects/{team.p1.id}/ecology/rai.svg?species=animal", headers=vic)
    assert chart.status_code == 200 and b"<svg" in chart.get_data()

    assert client.post(f"{url}/exports", headers=alice).status_code == 202
    run_worker()
    status = client.get(f"{url}/exports", headers=alice).get_json()
    assert status["state"] == "done", status
    got = client.get(f"{url}/download", headers=alice)
    archive = zipfile.ZipFile(io.BytesIO(got.get_data()))
    got.close()
    names = set(archive.namelist())
    assert {
        "effort.csv",
        "abundance.csv",
        "activity.csv",
        "occupancy/animal-detections.csv",
        "occupancy/animal-effort.csv",
        "occupancy/Vulpes_vulpes-detections.csv",
        "occupancy/Meles_meles-effort.csv",
    } <= names
    effort_csv = csv_rows(archive.read("effort.csv").decode("utf-8-sig"))
    assert effort_csv[0][-1] == "trap_nights"
    assert {r[0]: r[-1] for r in effort_csv[1:]} == {
        "North": "11.0417",
        "South": "5",
        "(survey)": "16.0417",
    }
    archive.extractall(tmp_path)
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    assert {"Effort", "Abundance", "Activity"} <= set(book.sheetnames)
    sheet = list(book["Effort"].iter_rows(values_only=True))
    book.close()
    assert sheet[1][0] == "North" and sheet[1][-1] == pytest.approx(11.0417)
    with (tmp_path / "camtrap-dp" / "deployments.csv").open(encoding="utf-8") as fh:
        comments = {d["locationName"]: d["deploymentComments"] for d in csv.DictReader(fh)}
    assert (
        "not operating: 2026-06-05T00:00:00 – 2026-06-07T00:00:00 (knocked, rita)"
        in (comments["North"])
    )
    assert "(silent)" in comments["South"]
    assert problems(tmp_path / "camtrap-dp") == []  # frictionless passes the package

    # the project's own silence and occasion length
    for bad, says in (
        ({"silent_days": "a week"}, "number of days"),
        ({"occasion_days": 2.5}, "whole"),
    ):
        refused = client.patch(url, json=bad, headers=alice)
        assert refused.status_code == 400 and says in refused.get_json()["error"]
    assert (
        client.patch(url, json={"silent_days": 9, "occasion_days": 14}, headers=alice).status_code
        == 200
    )
    quiet = client.get(f"{url}/effort", headers=vic).get_json()["locations"]
    assert next(e for e in quiet if e["name"] == "South")["gaps"] == []  # 8 days < 9
    fortnight = client.get(f"{url}/detection-history?species=animal", headers=vic).get_json()
    assert fortnight["occasion_days"] == 14 and len(fortnight["occasions"]) == 1

    # the gap removed, North's nights come back
    assert client.delete(f"{url}/gaps/{made.get_json()['id']}", headers=rita).status_code == 200
    assert client.delete(f"{url}/gaps/{made.get_json()['id']}", headers=rita).status_code == 404
    again = client.get(f"{url}/effort", headers=vic).get_json()
    north = next(e for e in again["locations"] if e["name"] == "North")
    assert north["trap_nights"] == pytest.approx(13 + 1 / 24, abs=1e-4)
