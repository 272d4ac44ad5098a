"""Review in a real headless Chromium under the site's CSP, on real trap photos: filter the
gallery, open the viewer, reject a box with the keyboard, draw a box with the mouse, change a
category, name a species, undo, bulk-accept, make a new zip and find exactly that in its Excel
and JSON. Screenshots of the gallery, the viewer and the review mode go to test-artifacts/."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.conftest import DATA
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser_upload import PHOTOS
from tests.web.helpers import SCRIPT, zip_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MORE = [
    DATA / "camera-trap" / "ena24" / "2480.jpg",
    DATA / "camera-trap" / "camtrapR-burst-StationC-TRA" / "StationC__2009-04-11__21-46-00(2).JPG",
]


def finished(page, live_server: str, run_worker, entries: dict[str, bytes] | None = None) -> str:
    """An SD card's zip (`entries`, by default this test's photos) sent to the API over HTTP,
    then run by a real RQ worker."""
    card = zip_of(entries or {p.name: p.read_bytes() for p in [*PHOTOS, *MORE]})
    response = page.request.post(
        f"{live_server}/api/jobs",
        multipart={
            "email": "ranger@example.org",
            "files": {"name": "card.zip", "mimeType": "application/zip", "buffer": card},
        },
        headers=SCRIPT,
    )
    assert response.status == 201, response.text()
    run_worker()
    return response.json()["id"]


def sheet(archive: zipfile.ZipFile, name: str) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(archive.read("report.xlsx")), read_only=True)
    rows = list(book[name].iter_rows(values_only=True))
    book.close()
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def undo_depth(page) -> int:
    return int(page.evaluate("window.Trapline.undoStack.length"))


def handled(page, before: int) -> None:
    """The page has taken in the saved review (it is on the undo stack): the response alone
    arrives before the page's own handler has run, and a key pressed then would undo the one
    before it."""
    page.wait_for_function("n => window.Trapline.undoStack.length > n", arg=before)


def wait_review(page, key: str) -> dict:
    before = undo_depth(page)
    with page.expect_response(
        lambda r: r.url.endswith("/reviews") and r.request.method == "POST"
    ) as done:
        page.keyboard.press(key)
    assert done.value.status == 201, done.value.json()
    if key != "z":  # an undo takes its entry off the stack before it is sent
        handled(page, before)
    return done.value.json()


def test_review_in_the_browser_and_download_again(
    browser_page,
    live_server,
    run_worker,
    tmp_path: Path,
) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    job_id = finished(page, live_server, run_worker)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server}/jobs/{job_id}")
    expect(page.locator("#gallery .tile")).to_have_count(5)
    page.fill("#reviewer", "Ana Silva")
    page.locator("#reviewer").dispatch_event("change")
    page.select_option("select[name=order]", "confidence")
    page.select_option("select[name=outcome]", "person")
    expect(page.locator("#gallery-count")).to_contain_text("5 images match")
    page.screenshot(path=str(ARTIFACTS / "review-gallery.png"), full_page=True)

    # the test model finds on every photo: person 0.5 (counted at 0.4) and vehicle 0.1
    page.locator("#gallery .tile").first.click()
    expect(page.locator("#viewer")).to_be_visible()
    first = page.inner_text("#v-file")
    expect(page.locator("#overlay .box")).to_have_count(1)
    page.keyboard.press("j")
    rejected = wait_review(page, "x")  # the person box: a false alarm
    assert [d["review"] for d in rejected["media"]["detections"]] == ["rejected", ""]
    page.keyboard.press("d")
    frame = page.locator("#frame").bounding_box()
    before = undo_depth(page)
    page.mouse.move(frame["x"] + frame["width"] * 0.6, frame["y"] + frame["height"] * 0.6)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.8, frame["y"] + frame["height"] * 0.9, steps=5)
    with page.expect_response("**/reviews") as drawn:
        page.mouse.up()
    handled(page, before)
    added = drawn.value.json()["media"]["detections"][-1]
    assert (added["source"], added["category"]) == ("human", "animal")
    assert added["bbox"][0] == pytest.approx(0.6, abs=0.02)
    page.keyboard.press("l")  # the boxes below the threshold are hidden until L shows them
    page.keyboard.press("j")  # -> the vehicle box the AI was unsure of: it is a person
    relabelled = wait_review(page, "2")
    assert relabelled["media"]["detections"][1]["verified_category"] == "person"
    page.keyboard.press("j")  # -> the drawn animal box
    page.keyboard.press("s")
    page.keyboard.type("Cat")
    before = undo_depth(page)
    with page.expect_response("**/reviews"):
        page.keyboard.press("Enter")
    handled(page, before)
    undone = wait_review(page, "z")
    assert undone["media"]["detections"][-1]["species"] is None
    page.locator("#v-boxes li.selected input").fill("Red fox")
    with page.expect_response("**/reviews"):
        page.keyboard.press("Enter")
    expect(page.locator("#overlay .box .label", has_text="Red fox")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "review-viewer.png"))
    page.keyboard.press("Escape")

    # "review species" loads the gallery in its filter first (it only set the dropdowns)
    page.click("#review-species")
    expect(page.locator("#gallery-count")).to_have_text("4 images match")
    expect(page.locator("#viewer")).to_be_visible()
    page.keyboard.press("Escape")
    page.click("#review-uncertain")
    expect(page.locator("#viewer")).to_be_visible()
    assert page.inner_text("#v-file") != first  # reviewed images are left out
    page.screenshot(path=str(ARTIFACTS / "review-uncertain.png"))
    page.keyboard.press("Escape")
    with page.expect_response("**/reviews") as bulk:
        page.click("#bulk-accept")
    assert bulk.value.json()["images"] == 4
    page.click("#review-uncertain")
    expect(page.locator("#results-message")).to_contain_text("Nothing left to review")

    with page.expect_response("**/exports"):
        page.click("#export-full")
    expect(page.locator("#export-progress")).to_contain_text("Making the zip")
    run_worker()
    expect(page.locator("#downloads li")).to_have_count(1, timeout=20_000)
    expect(page.locator("#export-progress")).to_have_text("", timeout=20_000)
    with page.expect_download() as info:
        page.locator("#downloads a").first.click()
    target = tmp_path / "again.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        images = {r["file"]: r for r in sheet(archive, "Media")}
        boxes = [r for r in sheet(archive, "Detections") if r["file"] == first]
        entries = {e["file"]: e for e in json.loads(archive.read("detections.json"))["images"]}
    assert images[first]["review"] == "changed" and images[first]["reviewer"] == "Ana Silva"
    assert images[first]["species"] == "Red fox"
    assert images[first]["verified_category"] == "animal+person"
    assert [
        (b["category"], b["source"], b["review"], b["verified_category"], b["species"])
        for b in boxes
    ] == [
        ("person", "machine", "rejected", None, None),
        ("vehicle", "machine", "changed", "person", None),
        ("animal", "human", "added", "animal", "Red fox"),
    ]
    assert sorted(r["review"] for f, r in images.items() if f != first) == ["accepted"] * 4
    dets = entries[first]["detections"]
    assert [d.get("verified") for d in dets] == [False, True, True]
    assert dets[1]["verified_category"] == "2"
    assert dets[-1]["source"] == "human" and dets[-1]["species"] == "Red fox"
    assert errors == []
