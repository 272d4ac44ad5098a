"""A camera knocked to face elsewhere, through the site with a real worker: a location's empty day
photos are copies of one real trap photo in changing light for six days, then of another real
camera's view for six; the check dates the change, a steady location raises nothing, and a
reviewer turns the finding into an operation gap in one request (the page's button), which the
effort then leaves out. The detector's fixed person (0.5) is below this site's threshold, so
photos without a red patch are empty."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta

import piexif
import pytest
from PIL import Image, ImageEnhance

from tests.conftest import DATA
from tests.web.test_survey_locations import send

BEFORE = DATA / "camera-trap" / "megadetector" / "idaho-camera-traps.jpg"
AFTER = DATA / "camera-trap" / "animl-southwest" / "testdataowl.JPG"
LIGHT = (0.7, 1.0, 1.25, 0.85, 1.1, 0.95)
FIRST = datetime(2026, 6, 1, 12)


@pytest.fixture
def settings(settings):
    return replace(settings, detection_threshold=0.6)


def day_photo(path, day: int) -> bytes:
    with Image.open(path) as image:
        copy = ImageEnhance.Brightness(image.convert("RGB")).enhance(LIGHT[day % len(LIGHT)])
    copy.thumbnail((200, 200))
    when = (FIRST + timedelta(days=day)).strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, exif=piexif.dump({"Exif": {36867: when}}))
    return out.getvalue()


def test_a_changed_view_is_dated_and_becomes_a_gap(client, team, run_worker) -> None:
    url = f"/api/projects/{team.p1.id}"
    alice, rita, vic = team.auth("alice"), team.auth("rita"), team.auth("vic")
    for name in ("Knocked", "Steady"):
        assert (
            client.post(f"{url}/deployments", json={"name": name}, headers=alice).status_code == 201
        )
    entries = {f"Steady/{d:02d}.jpg": day_photo(BEFORE, d) for d in range(12)}
    entries |= {f"Knocked/{d:02d}.jpg": day_photo(BEFORE if d < 6 else AFTER, d) for d in range(12)}
    assert send(client, team, "alice", entries).status_code == 201
    run_worker()

    found = client.get(f"{url}/camera-checks", headers=vic).get_json()["locations"]
    checks = {c["name"]: c for c in found}
    assert checks["Steady"]["findings"] == []
    (view,) = checks["Knocked"]["findings"]
    assert view["kind"] == "view"
    assert view["text"].startswith("the view changed on 2026-06-07 (camera moved or knocked over?)")
    assert "Knocked/06.jpg" in view["text"]
    assert (
        view["gap"]["start"] == "2026-06-07T12:00:00"
        and view["gap"]["end"] == "2026-06-12T12:00:00"
    )
    page = client.get(f"/projects/{team.p1.id}/ecology", headers=rita).get_data(as_text=True)
    assert 'class="make-gap"' in page and "the view changed on 2026-06-07" in page
    assert 'data-start="2026-06-07T12:00:00"' in page

    def nights() -> float:
        effort = client.get(f"{url}/effort", headers=vic).get_json()["locations"]
        return {e["name"]: e["trap_nights"] for e in effort}["Knocked"]

    assert nights() == 11
    gap_url = f"{url}/locations/{checks['Knocked']['location']}/gaps"
    assert client.post(gap_url, json=view["gap"], headers=rita).status_code == 201
    assert nights() == 6  # the five days facing elsewhere are left out
    page = client.get(f"/projects/{team.p1.id}/ecology", headers=vic).get_data(as_text=True)
    assert "not working: the view changed on 2026-06-07" in page  # on the timeline
