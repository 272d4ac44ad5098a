"""A camera that checks its own clock, through the site with a real worker: real infrared night
frames and colour day frames from the shared data (copies made smaller, EXIF kept) at one
registered location keep their own times and raise nothing; the same photos with the clock 12
hours off (the copies' DateTimeOriginal rewritten) make the check propose a 12 h shift. The
pipeline measures each photo's colour, so the check needs nothing but the store."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import piexif
import pytest
from PIL import Image

from shared.ecology.clock_check import Frame, time_warnings
from shared.ecology.exposure import exposure_warnings
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
def test_a_clock_twelve_hours_off_is_found_from_the_pictures(client, team, run_worker) -> None:
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
    assert "looks shifted by about 12 h" in wrong["warnings"][0]
    page = client.get(f"/projects/{team.p1.id}/ecology", headers=vic).get_data(as_text=True)
    assert "looks shifted by about 12 h" in page
    assert client.get(f"{url}/camera-checks", headers=team.auth("bob")).status_code == 404


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
    assert said == [
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
    assert said == [
        (
            "5 near-black frames in a row from 2026-06-01 03:10:00 to 2026-06-01 03:14:00"
            " (A/10.jpg to A/14.jpg): lens covered or flash failed?"
        )
    ]
    assert exposure_warnings(glare, run=4)[0].startswith("4 near-white frames in a row")
