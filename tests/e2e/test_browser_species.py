"""Species from examples in a real headless Chromium under the site's CSP: a class set taught
from a zip of real ENA24 photos (a real RQ worker with MegadetectorLite and the YOLOX-Nano
embedder), its page with thumbnails and the confusion matrix, a job that uses it, the gallery
ordered by the least certain suggestion, and one key (G) taking a suggested species in review."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import MODELS
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser_review import wait_review
from tests.web.helpers import SCRIPT, zip_of
from tests.web.test_species_service import TEACH, examples_zip, small

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def settings(settings, megadetector_lite: Path):
    return replace(
        settings,
        model_path=megadetector_lite,
        detection_threshold=0.25,
        species_embedder=MODELS / "yolox_nano.onnx",
    )


def test_teach_a_class_set_and_take_a_suggestion_with_one_key(
    browser_page, live_server, run_worker
) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(live_server + "/classes")
    expect(page.locator("#no-class-sets")).to_be_visible()
    page.fill("#set-name", "ena24")
    page.click("#new-class-set button")
    expect(page.locator("#class-set-message")).to_contain_text("Class set 'ena24' created")
    page.set_input_files(
        "#examples-zip",
        files=[{"name": "teach.zip", "mimeType": "application/zip", "buffer": examples_zip(TEACH)}],
    )
    page.click("#examples-form button")
    expect(page.locator("#class-set-message")).to_contain_text("Received teach.zip")
    run_worker()
    page.reload()
    expect(page.locator(".class-entry")).to_have_count(5)
    expect(page.locator(".class-entry[data-species=opossum] .count")).to_have_text("2 examples")
    expect(page.locator(".class-entry[data-species=opossum] .strip img")).to_have_count(2)
    expect(page.locator("#confusion tbody tr")).to_have_count(5)
    expect(page.locator("#uploads tr[data-status=done]")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "class-set.png"), full_page=True)

    card = zip_of({f"cam1/{n}": small(n) for n in ("2595.jpg", "2480.jpg")})
    created = requests.post(
        live_server + "/api/jobs",
        data={"email": "r@example.org", "class_set": "ena24"},
        files={"files": ("card.zip", io.BytesIO(card), "application/zip")},
        timeout=30,
        headers=SCRIPT,
    )
    assert created.status_code == 201, created.text
    run_worker()
    media = requests.get(
        f"{live_server}/api/jobs/{created.json()['id']}/media?order=species_uncertain", timeout=30
    ).json()["media"]
    suggested = [
        d["suggested_species"] for m in media for d in m["detections"] if d["suggested_species"]
    ]
    assert suggested, media
    page.goto(created.json()["page_url"])
    expect(page.locator("#species-state")).to_contain_text("got a suggestion from the class set")
    page.fill("#reviewer", "Ana Silva")
    page.locator("#reviewer").dispatch_event("change")
    page.select_option("#filters select[name=order]", "species_uncertain")
    page.locator("#gallery .tile").last.click()  # the most certain suggestion comes last
    expect(page.locator("#viewer")).to_be_visible()
    last = media[-1]
    box = next(d for d in last["detections"] if d["suggested_species"])
    expect(page.locator("#v-boxes .suggestion").first).to_contain_text(
        f"suggested: {box['suggested_species']}"
    )
    page.screenshot(path=str(ARTIFACTS / "species-suggestion.png"))
    # both photos are opossums (2480.jpg was taught): the last one's box is named opossum
    assert box["suggested_species"] == "opossum", media
    done = wait_review(page, "g")
    named = [d for d in done["media"]["detections"] if d["id"] == box["id"]]
    assert named[0]["species"] == "opossum" and named[0]["review"] == "accepted"
    assert errors == []
