"""The ecology page's camera-check buttons in a real headless Chromium under the site's CSP:
alice shifts a card whose clock is 12 hours off by the hours the check proposes, sees the
correction and undoes it, and records a run of black frames as an operation gap; what the page
did is what the API holds. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import piexif
import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from shared.people.projects import create_project
from shared.people.tokens import create_token
from shared.people.users import create_user
from tests.e2e.conftest import ARTIFACTS, shoot
from tests.e2e.test_browser_repeat_rules import send
from tests.e2e.test_browser_teams import PASSWORD, log_in
from tests.web.test_camera_checks import DAY_COLOUR, NIGHT_IR, SOUTHWEST, copy_of, taken

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def black_frames() -> dict[str, bytes]:
    """Five near-black frames a minute apart: a covered lens."""
    made = {}
    for i in range(5):
        out = io.BytesIO()
        when = f"2021:05:20 10:0{i}:00"
        exif = piexif.dump({"Exif": {piexif.ExifIFD.DateTimeOriginal: when}})
        Image.new("RGB", (120, 90), (3, 3, 3)).save(out, "JPEG", exif=exif)
        made[f"Covered/{i:02d}.jpg"] = out.getvalue()
    return made


def test_a_clock_fix_and_a_gap_from_the_page(browser_page, live_server, run_worker, app) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    store = app.extensions["trapline.store"]
    alice = create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    project = create_project(store, "Desert season", alice, now=NOW)
    token, _ = create_token(store, alice.id, "uploads", now=NOW)
    auth = {"Authorization": f"Bearer {token}"}
    api = f"{live_server}/api/projects/{project.id}"
    assert requests.patch(api, json={"utc_offset": "-07:00"}, headers=auth, timeout=30).ok
    body: dict[str, str | float] = {"name": "Wrong", **SOUTHWEST}
    assert requests.post(f"{api}/deployments", json=body, headers=auth, timeout=30).ok
    entries = {
        f"Wrong/{i:02d}.jpg": copy_of(name, timedelta(hours=12))
        for i, name in enumerate(sorted(NIGHT_IR + DAY_COLOUR, key=taken))
    } | black_frames()
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    send(live_server, upload.getvalue(), token, project.id)
    run_worker()

    def checks() -> dict[str, dict]:
        found = requests.get(f"{api}/camera-checks", headers=auth, timeout=30).json()
        return {c["name"]: c for c in found["locations"]}

    log_in(page, live_server, "alice")
    page.goto(f"{live_server}/projects/{project.id}/ecology")
    expect(page.locator("#timeline svg")).to_have_count(1)
    fix = page.locator("button.fix-clock")
    expect(fix).to_have_count(1)
    hours = int(fix.get_attribute("data-hours") or "0")
    assert abs(hours) == 12
    fix.click()
    expect(page.locator("#checks-message")).to_contain_text(
        f"The card's times are shifted by {hours} h in every survey output."
    )
    expect(page.locator("p.corrected")).to_contain_text(f"times shifted by {hours:+d} h")
    assert checks()["Wrong"]["clock_off"] is False
    shoot(page, "camera-checks-corrected.png")
    page.locator("button.undo-clock").click()
    expect(page.locator("#checks-message")).to_contain_text("The clock correction is undone.")
    expect(page.locator("button.fix-clock")).to_have_count(1)
    assert checks()["Wrong"]["clock_off"] is True

    page.locator("button.make-gap").click()
    expect(page.locator("#checks-message")).to_contain_text("Recorded as not working")
    effort = requests.get(f"{api}/effort", headers=auth, timeout=30).json()["locations"]
    (covered,) = [e for e in effort if e["name"] == "Covered"]
    assert [(g["start"], g["end"]) for g in covered["gaps"]] == [
        ("2021-05-20T10:00:00", "2021-05-20T10:04:00")
    ]
    assert "lens covered or flash failed?" in covered["gaps"][0]["reason"]
    assert errors == []
