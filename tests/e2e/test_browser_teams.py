"""A team's path in a real headless Chromium: alice logs in, makes a project, invites rita as a
reviewer and uploads two cards of one camera into it; rita logs in, finds both uploads on the
project's page and reviews across them, filters the project's gallery by location and exports
the survey; the project's audit log shows who did what; bob, who is not a member, is shown
nothing. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from shared.people.users import create_user
from tests.e2e.conftest import ARTIFACTS, shoot
from tests.web.helpers import BURST

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
CARDS = [sorted(BURST.glob("*.JPG"))[:1], sorted(BURST.glob("*.JPG"))[1:]]


def log_in(page, live_server: str, name: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_url("**/projects")


def log_out(page) -> None:
    page.click("#logout")
    page.wait_for_url("**/login")
    page.wait_for_load_state("networkidle")


def upload_card(page, project_url: str, files: list, run_worker) -> str:
    page.goto(project_url)
    page.click("#upload-here")
    page.wait_for_selector("input.dz-hidden-input", state="attached")
    expect(page.locator("#project option:checked")).to_have_text("StationC season")
    page.fill("#deployment", "StationC")  # both cards are from the one camera
    page.set_input_files("input.dz-hidden-input", [str(p) for p in files])
    page.wait_for_selector(f"text={len(files)} file(s) uploaded completely", timeout=60_000)
    page.click("#submit")
    page.wait_for_url("**/jobs/*", timeout=30_000)
    run_worker()
    expect(page.locator("#status")).to_have_text("finished", timeout=60_000)  # the page polls
    return page.url.rsplit("/", 1)[1]


def review_across_cards(page, jobs: list[str]) -> None:
    """The project's review page: one gallery of both cards, the viewer most uncertain first
    across them, a key press saved on the card it belongs to, then bulk accept of the rest."""
    page.click("#project-review-link")
    expect(page.locator("#reviewer")).to_have_value("rita")
    expect(page.locator("#gallery .tile")).to_have_count(3)
    expect(page.locator("#gallery-count")).to_have_text("3 images match")
    names = page.locator("#gallery .tile .name").all_text_contents()
    assert {name.split(" / ")[0] for name in names} == {job[:8] for job in jobs}
    page.click("#review-uncertain")
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#v-pos")).to_contain_text("1")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: r.url.endswith("/reviews")) as saved:
        page.keyboard.press("a")
    assert saved.value.status == 201, saved.value.json()
    assert saved.value.json()["job"] in jobs and saved.value.json()["media"]["review"]
    shoot(page, "project-review-viewer.png")
    page.keyboard.press("Escape")
    with page.expect_response(lambda r: r.url.endswith("/reviews")) as bulk:
        page.click("#bulk-accept")
    assert bulk.value.status == 201, bulk.value.json()
    assert bulk.value.json()["images"] == 2  # the other two, on whichever cards they are
    page.wait_for_load_state("networkidle")
    # the filter is "not reviewed yet", most uncertain first: nothing is left in it
    expect(page.locator("#gallery-count")).to_have_text("0 images match")
    page.screenshot(path=str(ARTIFACTS / "project-review.png"), full_page=True)
    page.click("#project-back")


def test_a_team_shares_a_project(browser_page, live_server, run_worker, app) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    store = app.extensions["trapline.store"]
    for name in ("alice", "rita", "bob"):
        create_user(store, name, f"{name}@example.org", PASSWORD, now=NOW)

    log_in(page, live_server, "alice")
    page.fill("#project-name", "StationC season")
    page.fill("#project-offset", "-03:00")
    page.click("#new-project button[type=submit]")
    expect(page.locator("h1#project-name")).to_have_text("StationC season")
    project_url = page.url
    page.fill("#member-user", "rita")
    page.select_option("#member-role", "reviewer")
    page.click("#add-member button[type=submit]")
    expect(page.locator("#project-message")).to_have_text("rita is now a reviewer.")
    page.fill("#loc-name", "StationC")  # the camera, registered once with its position
    page.fill("#loc-lat", "-22.91")
    page.fill("#loc-lon", "-43.17")
    page.click("#add-location button[type=submit]")
    expect(page.locator("#locations tbody tr")).to_have_count(1)
    jobs = [upload_card(page, project_url, card, run_worker) for card in CARDS]
    page.goto(project_url)
    expect(page.locator("#project-jobs tbody tr")).to_have_count(2)
    shoot(page, "project-page.png")
    log_out(page)

    log_in(page, live_server, "rita")
    page.on("dialog", lambda dialog: dialog.accept())  # bulk accept asks first
    page.click("#projects a")
    expect(page.locator("#project-role")).to_have_text("reviewer")
    expect(page.locator("#add-member")).to_have_count(0)  # only owners manage members
    review_across_cards(page, jobs)
    page.goto(project_url)
    log = page.locator("#audit-log tbody tr")
    expect(log).to_have_count(7)  # made, member, location, two uploads, an accept, a bulk accept
    expect(log.first).to_contain_text("rita")
    expect(log.first).to_contain_text("bulk_accept")
    page.screenshot(path=str(ARTIFACTS / "project-audit-log.png"), full_page=True)
    page.click("#project-gallery-link")  # every card in one gallery, all reviewed now
    tiles = page.locator("#project-gallery .tile")
    expect(tiles.first).to_be_visible()
    assert {tiles.nth(i).get_attribute("data-job") for i in range(tiles.count())} == set(jobs)
    expect(page.locator("#project-gallery .tile:not(.reviewed)")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    loaded = page.eval_on_selector_all(
        "#project-gallery img", "imgs => imgs.filter(i => i.naturalWidth > 0).length"
    )
    assert loaded == tiles.count()
    shoot(page, "project-gallery.png")
    page.select_option("#g-location", label="StationC")
    page.click("#project-filters button[type=submit]")
    expect(page.locator("#gallery-count")).to_have_text("3 files")

    page.goto(project_url)  # rita exports the survey: one zip, one Camtrap DP package
    page.click("#export-project button[type=submit]")
    expect(page.locator("#project-export")).to_contain_text("Export queued")
    run_worker()
    page.reload()
    expect(page.locator("#project-export")).to_contain_text("Exported 2 card(s), 3 files")
    with page.expect_download() as fetched:
        page.click("#project-download")
    saved = ARTIFACTS / "project-export.zip"
    fetched.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert "camtrap-dp/datapackage.json" in archive.namelist()
        package = json.loads(archive.read("camtrap-dp/datapackage.json"))
    assert package["title"] == "StationC season: camera-trap survey"
    shoot(page, "project-export.png")
    log_out(page)

    log_in(page, live_server, "bob")
    expect(page.locator("#no-projects")).to_be_visible()
    for url in (project_url, f"{live_server}/jobs/{jobs[0]}"):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
    page.screenshot(path=str(ARTIFACTS / "project-not-a-member.png"), full_page=True)
    assert errors == []
