"""A researcher's path in a real headless Chromium: drop photos into Dropzone, submit, watch the
progress bar reach the end, download the zip. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from shared.model_servers import live_count
from tests.conftest import DATA
from tests.e2e.conftest import ARTIFACTS, shoot
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHOTOS = [
    DATA / "camtrap-dp" / "example" / "media" / "20210531082538-RCNX0031.JPG",
    DATA / "camera-trap" / "animl-southwest" / "B013_IMG_0005_empty.jpeg",
    DATA / "camera-trap" / "camtrapR-burst-StationC-TRA" / "StationC__2009-04-11__21-44-00(1).JPG",
]


# the whole service on PostgreSQL, as production runs it: site, model server process, browser
@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_drop_submit_watch_download(
    browser_page, live_server, workers, redis_conn, tmp_path: Path, settings
) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    workers.start()
    wait_for(lambda: live_count(redis_conn), what="model server")

    page.goto(live_server + "/")
    assert page.locator("script[src*='cdn']").count() == 0  # Dropzone comes from the app itself
    page.wait_for_selector("input.dz-hidden-input", state="attached")  # Dropzone is running
    shoot(page, "upload-page.png")
    page.fill("#email", "ranger@example.org")
    extra = DATA / "camera-trap" / "ena24" / "2480.jpg"  # dropped by mistake, then removed
    page.set_input_files("input.dz-hidden-input", [str(p) for p in [*PHOTOS, extra]])
    page.wait_for_selector("text=4 file(s) uploaded completely", timeout=60_000)
    assert page.locator(".dz-preview.dz-success").count() == 4
    # the whole drop's progress: bytes, speed and time left
    assert page.locator("#total-progress").get_attribute("value") == "100"
    assert " of " in page.inner_text("#total-text")
    with page.expect_response("**/upload/remove") as removal:
        page.locator(".dz-preview", has_text="2480.jpg").locator(".dz-remove").click()
    assert removal.value.json() == {"ok": True}
    page.wait_for_selector("text=3 file(s) uploaded completely")
    assert page.locator(".dz-preview .dz-progress").count() == 3  # a progress bar per file
    page.click("#submit")
    page.wait_for_url("**/jobs/*", timeout=30_000)
    expect(page.locator("#status")).to_have_text("finished", timeout=120_000)
    progress = page.locator("#progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "3"
    assert "3 of 3 photos" in page.inner_text("#counts")
    shoot(page, "job-finished.png")
    with page.expect_download() as info:
        page.click("#download")
    target = tmp_path / "result.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as z:
        names = set(z.namelist())
        data = json.loads(z.read("detections.json"))
    assert {p.name for p in PHOTOS} <= names and "report.xlsx" in names
    assert {im["file"] for im in data["images"]} == {p.name for p in PHOTOS}
    assert settings.database_url.startswith("postgresql")
    job_id = page.url.rsplit("/", 1)[1]
    media = page.request.get(f"{live_server}/api/jobs/{job_id}/media").json()["media"]
    assert sorted(m["path"] for m in media) == sorted(p.name for p in PHOTOS)
    assert errors == []


def test_refusals_show_on_the_page(browser_page, live_server) -> None:
    page, _ = browser_page
    page.goto(live_server + "/")
    page.fill("#email", "ranger@example.org")
    page.click("#submit")
    page.wait_for_selector("#form-error")
    assert "add a zip or some images" in page.inner_text("#form-error")


def test_a_chunk_lost_on_the_way_is_sent_again(browser_page, live_server, settings) -> None:
    """A restart of the site or a dropped link fails a chunk in flight: Dropzone sends it
    again and the file completes; nothing is marked done before its last chunk is in."""
    page, errors = browser_page
    failed: list[str] = []

    def flaky(route) -> None:
        if not failed:
            failed.append(route.request.url)
            route.abort("connectionreset")  # the first chunk never arrives
        else:
            route.continue_()

    page.route("**/upload/chunk", flaky)
    page.goto(live_server + "/")
    page.set_input_files("input.dz-hidden-input", [str(PHOTOS[0])])
    page.wait_for_selector("text=1 file(s) uploaded completely", timeout=60_000)
    assert failed and page.locator(".dz-preview.dz-success").count() == 1
    draft = page.get_attribute("input[name=draft]", "value")
    from shared.storage import Storage

    stored = Storage(settings.data_dir).draft_dir(draft) / PHOTOS[0].name
    assert stored.read_bytes() == PHOTOS[0].read_bytes()
    assert [e for e in errors if "upload/chunk" not in e] == []


def test_leaving_the_page_while_files_upload_asks_first(browser_page, live_server) -> None:
    page, _ = browser_page
    held: list[object] = []
    page.route("**/upload/chunk", lambda route: held.append(route))  # never answered: uploading
    page.goto(live_server + "/")
    page.click("#email")  # a real gesture: browsers ask before unload only after one
    page.set_input_files("input.dz-hidden-input", [str(PHOTOS[0])])
    page.wait_for_selector("text=Uploading", timeout=30_000)
    with page.expect_event("dialog", timeout=10_000) as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()  # stay on the page: the upload goes on
