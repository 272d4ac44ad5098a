"""The Repeats page in a real headless Chromium under the site's CSP (issue 29, items 3 and 4):
real trap photos with a 'branch' planted in 30 and the stand-in model's fixed person box in
every file; by keys only, the person group is rejected (X), a crop of the branch rescued (R),
the branch rejected (X) and that undone (Z); what the page says is what the API holds."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.web.helpers import SCRIPT
from tests.web.test_repeats_api import card

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def groups(live_server: str, job_id: str) -> dict[str, dict]:
    body = requests.get(f"{live_server}/api/jobs/{job_id}/repeats", timeout=30).json()
    return {g["category"]: g for g in body["groups"]}


def test_reject_rescue_and_undo_by_keys(browser_page, live_server, run_worker) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    upload, _, _ = card(range(30), range(10))
    created = requests.post(
        live_server + "/api/jobs",
        data={"email": "r@example.org"},
        files={"files": ("card.zip", upload, "application/zip")},
        timeout=30,
        headers=SCRIPT,
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    run_worker()
    page.goto(created.json()["page_url"])
    page.click("#repeats-link")
    page.fill("#reviewer", "Ana Silva")
    page.locator("#reviewer").dispatch_event("change")
    first, second = page.locator("details.repeat").nth(0), page.locator("details.repeat").nth(1)
    expect(first).to_contain_text("cam1 · person · 40 files, 40 events, 30 days")
    expect(second).to_contain_text("cam1 · animal · 30 files, 30 events, 30 days")
    expect(first.locator("li.crop")).to_have_count(40)
    page.locator("h1").click()  # the keys go to the page, not the name field

    page.keyboard.press("x")  # the first group, open: the person box in every file
    expect(page.locator("#repeats-message")).to_contain_text(
        "Rejected the group: 40 boxes in 40 files. Z undoes it."
    )
    expect(page.locator("details.repeat").nth(0).locator(".repeat-state")).to_have_text("rejected")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # open the branch's group
    expect(page.locator("details.repeat").nth(1)).to_have_attribute("open", "")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    chosen = page.locator("details.repeat").nth(1).locator("li.crop.current")
    rescued_box = chosen.get_attribute("data-box")
    page.keyboard.press("r")
    expect(page.locator("#repeats-message")).to_contain_text("Rescued the crop of cam1/")
    expect(page.locator(f"li.crop[data-box='{rescued_box}']")).to_have_class("crop rescued current")

    page.keyboard.press("x")  # the cursor stayed on the branch's group across the reload
    expect(page.locator("#repeats-message")).to_contain_text(
        "Rejected the group: 29 boxes in 30 files (1 rescued left as they were). Z undoes it."
    )
    branch = page.locator("details.repeat").nth(1)
    expect(branch.locator(".repeat-state")).to_have_text("rejected, 1 rescued")
    expect(branch.locator("li.crop.rejected")).to_have_count(29)
    page.screenshot(path=str(ARTIFACTS / "repeats-rejected.png"), full_page=True)
    assert groups(live_server, job_id)["animal"]["rejected"] == 29

    page.keyboard.press("z")
    expect(page.locator("#repeats-message")).to_contain_text("Undone: 30 files put back")
    expect(page.locator("details.repeat").nth(1).locator("li.crop.rejected")).to_have_count(0)
    after = groups(live_server, job_id)
    assert (after["animal"]["rejected"], after["animal"]["rescued"]) == (0, 1)
    assert after["person"]["state"] == "rejected"
    page.screenshot(path=str(ARTIFACTS / "repeats-undone.png"), full_page=True)
    assert errors == []
