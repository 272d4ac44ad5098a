"""Videos in a real headless Chromium under the site's CSP: dropped on the upload page with a
frame interval, run by a real RQ worker, then in the gallery (the tile shows the best frame) and
the viewer (a filmstrip of the checked frames, each frame with its own boxes, keys to step
through them, a box drawn on the frame shown). Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import DATA
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser_review import wait_review
from tests.videos import red_patch_clip

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AVI = DATA / "videos" / "zamba" / "PICT0265.AVI"


def test_drop_videos_and_review_them_frame_by_frame(
    browser_page,
    live_server,
    run_worker,
    tmp_path: Path,
) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    clip = red_patch_clip(
        tmp_path / "visit.mp4", seconds=6, fps=5, patch_frames=range(10, 21), size=(320, 240)
    )
    page.goto(live_server + "/")
    page.wait_for_selector("input.dz-hidden-input", state="attached")
    page.fill("#email", "ranger@example.org")
    page.fill("#frame-interval", "1")
    page.set_input_files("input.dz-hidden-input", [str(clip), str(AVI)])
    page.wait_for_selector("text=2 file(s) uploaded completely", timeout=60_000)
    assert page.locator(".dz-preview.dz-error").count() == 0  # Dropzone took both videos
    page.click("#submit")
    page.wait_for_url("**/jobs/*", timeout=30_000)
    run_worker()
    page.reload()
    tiles = page.locator("#gallery .tile.video")
    expect(tiles).to_have_count(2)
    visit = tiles.filter(has_text="visit.mp4")
    expect(visit.locator(".caption")).to_contain_text("▶ 7 frames")
    expect(visit.locator(".overlay .box.cat-animal")).to_have_count(1)  # the best frame's box
    page.fill("#reviewer", "Ana Silva")
    page.locator("#reviewer").dispatch_event("change")

    visit.click()
    strip = page.locator("#filmstrip button")
    expect(strip).to_have_count(7)
    expect(page.locator("#filmstrip button.current")).to_have_attribute("data-frame", "10")
    expect(page.locator("#filmstrip button.seen")).to_have_count(7)  # person 0.5 in each
    expect(page.locator("#overlay .box.cat-animal")).to_have_count(1)
    expect(page.locator("#v-facts")).to_contain_text("Showing frame 10 at 2.0 s")
    expect(page.locator("#v-facts")).to_contain_text("First seen: animal at 2.0 s, person at 0.0 s")
    page.screenshot(path=str(ARTIFACTS / "video-viewer.png"))

    page.keyboard.press("]")
    expect(page.locator("#filmstrip button.current")).to_have_attribute("data-frame", "15")
    assert page.get_attribute("#photo", "src").endswith(".f000015.jpg")
    strip.first.click()  # frame 0: the patch has not come in yet
    expect(page.locator("#filmstrip button.current")).to_have_attribute("data-frame", "0")
    expect(page.locator("#overlay .box.cat-animal")).to_have_count(0)
    expect(page.locator("#overlay .box.cat-person")).to_have_count(1)
    expect(page.locator("#v-boxes li")).to_have_count(1)  # this frame's person; its vehicle
    expect(page.locator("#v-low")).to_contain_text("1 box below the threshold")  # behind L
    page.keyboard.press("l")
    expect(page.locator("#v-boxes li")).to_have_count(2)
    page.keyboard.press("l")

    page.keyboard.press("d")  # a box the detector missed, drawn on frame 0
    frame = page.locator("#frame").bounding_box()
    page.mouse.move(frame["x"] + frame["width"] * 0.2, frame["y"] + frame["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.4, frame["y"] + frame["height"] * 0.5, steps=5)
    with page.expect_response("**/reviews") as drawn:
        page.mouse.up()
    added = drawn.value.json()["media"]["detections"][-1]
    assert (added["source"], added["frame"]) == ("human", 0)
    expect(page.locator("#overlay .box.human")).to_have_count(1)
    page.keyboard.press("]")
    expect(page.locator("#overlay .box.human")).to_have_count(0)  # it belongs to frame 0
    reviewed = wait_review(page, "a")
    assert reviewed["media"]["review"] == "changed"
    page.screenshot(path=str(ARTIFACTS / "video-viewer-frame.png"))
    page.keyboard.press("Escape")
    page.wait_for_load_state("networkidle")
    assert errors == []
