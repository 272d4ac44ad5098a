"""Events and the Camtrap DP package in a real headless Chromium under the site's CSP: the
gallery ordered by event shows a heading per event, "Accept this event" reviews its files as one
action, and the job page's table of deployments without coordinates saves them and has the
package made again by a real RQ worker."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.web.helpers import SCRIPT
from tests.web.test_camtrap_places import card

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_events_in_the_gallery_and_coordinates_on_the_job_page(
    browser_page, live_server, run_worker
) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    created = requests.post(
        live_server + "/api/jobs",
        data={"email": "r@example.org"},
        files={"files": ("card.zip", card(), "application/zip")},
        timeout=30,
        headers=SCRIPT,
    )
    assert created.status_code == 201, created.text
    run_worker()
    page.goto(created.json()["page_url"])
    expect(page.locator("#camtrap-dp-problems")).to_contain_text(
        "2 deployment(s) without coordinates: heron, station-c"
    )
    page.fill("#reviewer", "Ana Silva")
    page.locator("#reviewer").dispatch_event("change")
    page.select_option("#filters select[name=order]", "event")
    heads = page.locator("#gallery .event-head")
    expect(heads).to_have_count(3)
    burst = heads.filter(has_text="Event E000003")
    expect(burst).to_contain_text("station-c · 2 files · 2009-04-11 21:46:00")
    with page.expect_response("**/reviews") as accepted:
        burst.locator("button.accept-event").click()
    assert accepted.value.json()["images"] == 2
    expect(page.locator("#results-message")).to_contain_text(
        "Accepted event E000003: 2 files not reviewed before."
    )
    expect(page.locator("#gallery .tile.reviewed")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "events-gallery.png"))

    rows = page.locator("#places-form tbody tr")
    expect(rows).to_have_count(2)
    rows.nth(0).locator("input[name=latitude]").fill("51.18")
    rows.nth(0).locator("input[name=longitude]").fill("5.65")
    page.fill("#utc-offset-after", "+02:00")
    page.click("#save-places")
    expect(page.locator("#camtrap-dp-message")).to_contain_text(
        "Saved coordinates for 1 deployment(s)"
    )
    run_worker()  # the export that makes the package again
    page.reload()
    problems = page.locator("#camtrap-dp-problems li")
    expect(problems.first).to_have_text("1 deployment(s) without coordinates: station-c")
    expect(problems.nth(1)).to_contain_text(  # the package was validated, and agrees
        "The validator (frictionless) found, by kind:"
    )
    expect(page.locator("#camtrap-dp-validator li").first).to_contain_text(
        "in deployments (latitude), rows 3"
    )
    expect(page.locator("#places-form tbody tr")).to_have_count(1)
    assert errors == []
