"""A camera that checks its own clock, through the site with a real worker: real infrared night
frames and colour day frames from the shared data (copies made smaller, EXIF kept) at one
registered location keep their own times and raise nothing; the same photos with the clock 12
hours off (the copies' DateTimeOriginal rewritten) make the check propose a 12 h shift. The
pipeline measures each photo's colour, so the check needs nothing but the store."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import piexif
import pytest
from PIL import Image

from shared.ecology.clock_check import Frame, time_warnings
from shared.ecology.exposure import exposure_warnings
from tests.camtrap import problems
from tests.conftest import DATA
from tests.web.test_survey_locations import send

CAMERA_TRAP = DATA / "camera-trap"
NIGHT_IR = [  # grey infrared frames taken in the dark
    "animl-buow/IMG_8968.JPG",
    "animl-buow/RCNX1419.JPG",
    "animl-southwest/2021-05-28_SYFR0041_deer.JPG",
    "animl-southwest/2021-12-07_12080069_rabbit.JPG",
    "megadetector/channel-islands-thumb.jpg",
    "megadetector/orinoquia-thumb-web.jpg",
]
DAY_COLOUR = [
    "animl-southwest/Asian Plains_S012_2022-08-25_human_vehicle.jpg",
    "animl-southwest/B012_2021-05-27_human.jpg",
    "animl-southwest/testdataowl.JPG",
    "ena24/49.jpg",
    "megadetector/idaho-camera-traps.jpg",
    "megadetector/sage-grouse-raw.jpg",
]
SOUTHWEST = {"latitude": 33.0, "longitude": -116.5}  # where animl's Southwest photos come from


def taken(name: str) -> datetime:
    with Image.open(CAMERA_TRAP / name) as image:
        text = image.getexif().get_ifd(0x8769)[0x9003]  # DateTimeOriginal
    return datetime.strptime(text, "%Y:%m:%d %H:%M:%S")


def copy_of(name: str, shift: timedelta) -> bytes:
    """The real photo, smaller, with a fresh EXIF block: its own capture time moved by
    `shift` (the real blocks' maker notes do not survive piexif)."""
    moved = taken(name) + shift
    exif = {"Exif": {piexif.ExifIFD.DateTimeOriginal: moved.strftime("%Y:%m:%d %H:%M:%S")}}
    with Image.open(CAMERA_TRAP / name) as image:
        copy = image.convert("RGB")
    copy.thumbnail((240, 240))  # the card stays under werkzeug's in-memory limit
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=90, exif=piexif.dump(exif))
    return out.getvalue()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_clock_twelve_hours_off_is_found_and_corrected(
    client, team, run_worker, tmp_path: Path
) -> None:
    url = f"/api/projects/{team.p1.id}"
    alice, vic = team.auth("alice"), team.auth("vic")
    assert client.patch(url, json={"utc_offset": "-07:00"}, headers=alice).status_code == 200
    for name in ("Right", "Wrong"):
        body = {"name": name, **SOUTHWEST}
        assert client.post(f"{url}/deployments", json=body, headers=alice).status_code == 201
    for place, shift in (("Right", timedelta(0)), ("Wrong", timedelta(hours=12))):
        entries = {  # named in time order, as a card's files are
            f"{place}/{i:02d}.jpg": copy_of(name, shift)
            for i, name in enumerate(sorted(NIGHT_IR + DAY_COLOUR, key=taken))
        }
        assert send(client, team, "alice", entries).status_code == 201
    run_worker()
    found = client.get(f"{url}/camera-checks", headers=vic)
    assert found.status_code == 200
    checks = {c["name"]: c for c in found.get_json()["locations"]}
    right, wrong = checks["Right"], checks["Wrong"]
    assert right["clock_off"] is False and right["warnings"] == []
    assert right["clock"]["frames"] == 12 and right["clock"]["wrong"] == 0
    assert wrong["clock_off"] is True
    assert abs(wrong["clock"]["shift_hours"]) == 12 and wrong["clock"]["wrong_after"] == 0
    # all but the rabbit, taken at 06:08 on 8 December: 18:08 is dark in December too
    assert wrong["clock"]["wrong"] == 11
    assert "looks shifted by about 12 h in card" in wrong["warnings"][0]
    page = client.get(f"/projects/{team.p1.id}/ecology", headers=vic).get_data(as_text=True)
    assert "looks shifted by about 12 h" in page
    assert 'class="fix-clock"' not in page  # a viewer is offered no correction
    assert client.get(f"{url}/camera-checks", headers=team.auth("bob")).status_code == 404
    (finding,) = [f for f in wrong["findings"] if f["kind"] == "clock"]
    fix = finding["correction"]
    assert abs(fix["shift_hours"]) == 12 and right["findings"] == []
    page = client.get(f"/projects/{team.p1.id}/ecology", headers=alice).get_data(as_text=True)
    assert f'class="fix-clock" data-period="{fix["period"]}"' in page and 'id="timeline"' in page

    # before the fix the export says the wrong camera's times have issues
    exported = export(client, team, run_worker, tmp_path / "before")
    assert exported["deployments"] == {"Right": "", "Wrong": "true"}

    clock_url = f"{url}/periods/{fix['period']}/clock"
    body = {"shift_hours": fix["shift_hours"]}
    assert client.post(clock_url, json=body, headers=team.auth("rita")).status_code == 403
    for bad in ({"shift_hours": "12"}, {"shift_hours": 0}, {}, {"shift_hours": 10**9}):
        assert client.post(clock_url, json=bad, headers=alice).status_code == 400, bad
    assert client.post(f"{url}/periods/99999/clock", json=body, headers=alice).status_code == 404
    assert client.post(clock_url, json=body, headers=alice).status_code == 201
    fixed = {
        c["name"]: c
        for c in client.get(f"{url}/camera-checks", headers=vic).get_json()["locations"]
    }
    assert fixed["Wrong"]["clock_off"] is False and fixed["Wrong"]["clock"]["wrong"] == 0
    assert fixed["Wrong"]["periods"][0]["clock_shift_seconds"] == fix["shift_hours"] * 3600
    # every survey figure moves with it: the effort's span is the corrected one
    effort = {
        e["name"]: e for e in client.get(f"{url}/effort", headers=vic).get_json()["locations"]
    }
    moved = datetime.fromisoformat(effort["Wrong"]["start"]) - datetime.fromisoformat(
        effort["Right"]["start"]
    )
    assert moved == timedelta(hours=12 + fix["shift_hours"])

    exported = export(client, team, run_worker, tmp_path / "after")
    assert exported["deployments"] == {"Right": "", "Wrong": ""}
    assert "times corrected by" in exported["comments"]["Wrong"]
    first = min(exported["media"]["Wrong"], key=lambda m: m["filePath"])
    camera_own = taken(min(NIGHT_IR + DAY_COLOUR, key=taken)) + timedelta(hours=12)
    assert first["timestamp"].startswith(
        (camera_own + timedelta(hours=fix["shift_hours"])).isoformat()
    )
    assert (
        f"the camera's clock said {camera_own.isoformat(sep=' ')} (corrected)"
        in first["mediaComments"]
    )
    assert exported["camera_clock"]["Wrong/00.jpg"] == camera_own
    assert exported["camera_clock"]["Right/00.jpg"] is None
    assert problems(tmp_path / "after" / "camtrap-dp") == []  # frictionless passes

    # undone: the check finds the shift again; nothing left to undo
    assert client.delete(clock_url, headers=alice).status_code == 200
    again = {
        c["name"]: c
        for c in client.get(f"{url}/camera-checks", headers=vic).get_json()["locations"]
    }
    assert again["Wrong"]["clock_off"] is True
    assert client.delete(clock_url, headers=alice).status_code == 404


def export(client, team, run_worker, into: Path) -> dict:
    """The project's export, unpacked into `into`: each deployment's timestampIssues and
    comment, the Camtrap DP media rows by location, and the report's camera_clock column."""
    url = f"/api/projects/{team.p1.id}"
    alice = team.auth("alice")
    assert client.post(f"{url}/exports", headers=alice).status_code == 202
    run_worker()
    assert client.get(f"{url}/exports", headers=alice).get_json()["state"] == "done"
    got = client.get(f"{url}/download", headers=alice)
    zipfile.ZipFile(io.BytesIO(got.get_data())).extractall(into)
    got.close()
    with (into / "camtrap-dp" / "deployments.csv").open(encoding="utf-8") as fh:
        deployments = list(csv.DictReader(fh))
    with (into / "camtrap-dp" / "media.csv").open(encoding="utf-8") as fh:
        media = list(csv.DictReader(fh))
    where = {d["deploymentID"]: d["locationName"] for d in deployments}
    by_place: dict[str, list[dict]] = {}
    for m in media:
        by_place.setdefault(where[m["deploymentID"]], []).append(m)
    book = openpyxl.load_workbook(into / "report.xlsx", read_only=True)
    rows = list(book["Media"].iter_rows(values_only=True))
    book.close()
    header = list(rows[0])
    file_at, clock_at = header.index("file"), header.index("camera_clock")
    return {
        "deployments": {d["locationName"]: d["timestampIssues"] for d in deployments},
        "comments": {d["locationName"]: d["deploymentComments"] for d in deployments},
        "media": by_place,
        "camera_clock": {str(r[file_at]).split("/", 1)[1]: r[clock_at] for r in rows[1:]},
    }


def test_times_in_the_future_before_the_set_up_and_going_backwards() -> None:
    def frame(path: str, ordinal: int, when: datetime) -> Frame:
        return Frame("cardA", path, ordinal, when, None)

    frames = [
        frame("A/1.jpg", 0, datetime(2026, 6, 1, 10)),
        frame("A/2.jpg", 1, datetime(2026, 6, 1, 10, 0, 30)),
        frame("A/3.jpg", 2, datetime(2026, 6, 1, 10, 0, 5)),  # a burst's 25 s: not backwards
        frame("A/4.jpg", 3, datetime(2025, 1, 1, 0)),  # the clock reset
        frame("B/1.jpg", 4, datetime(2026, 5, 1)),  # another folder: not compared with A's
        frame("A/5.jpg", 5, datetime(2027, 1, 1)),
    ]
    said = time_warnings(frames, now=datetime(2026, 12, 7), set_up=datetime(2026, 5, 15))
    assert [f.text for f in said] == [
        "1 file(s) are dated in the future (first: A/5.jpg)",
        "2 file(s) are dated before the set-up at 2026-05-15 00:00:00 (first: A/4.jpg)",
        (
            "time goes backwards 1 time(s) in card cardA (first: A/4.jpg at 2025-01-01 00:00:00"
            " after A/3.jpg at 2026-06-01 10:00:05)"
        ),
    ]
    assert time_warnings(frames[:3], now=datetime(2026, 12, 7)) == []


def test_a_run_of_black_frames_is_named_and_a_single_one_is_not() -> None:
    def frame(minute: int, level: float) -> Frame:
        return Frame(
            "cardA", f"A/{minute:02d}.jpg", minute, datetime(2026, 6, 1, 3, minute), 0.0, level
        )

    night = [frame(0, 0.3), frame(1, 0.01), frame(2, 0.3)]  # one dark frame says nothing
    covered = [frame(10 + i, 0.01) for i in range(5)]
    glare = [frame(20 + i, 0.99) for i in range(4)]  # four: below the run of five
    said = exposure_warnings(night + covered + glare)
    assert [f.text for f in said] == [
        (
            "5 near-black frames in a row from 2026-06-01 03:10:00 to 2026-06-01 03:14:00"
            " (A/10.jpg to A/14.jpg): lens covered or flash failed?"
        )
    ]
    assert said[0].start == datetime(2026, 6, 1, 3, 10) and said[0].end == datetime(
        2026, 6, 1, 3, 14
    )
    assert said[0].public()["gap"]["end"] == "2026-06-01T03:14:00"  # what the page's button sends
    assert exposure_warnings(glare, run=4)[0].text.startswith("4 near-white frames in a row")
