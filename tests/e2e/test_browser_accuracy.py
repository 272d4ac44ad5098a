"""The survey dashboard and the Accuracy page in a real headless Chromium under the site's CSP,
on real photos run through YOLOX-Nano: the cameras table sorts, the server-drawn charts and map
load, a review becomes figures, and the Camtrap DP example's own observations are uploaded as
truth through the page. Screenshots of each chart, the dashboard and the Accuracy page go to
test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import DATA, YOLOX_TFLITE
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser_review import finished
from tests.web.helpers import SCRIPT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PACKAGE = DATA / "camtrap-dp" / "example"
HERON = sorted((PACKAGE / "media").glob("*.JPG"))
TUSCANY = sorted((DATA / "exif-samples" / "jpg" / "gps").glob("DSCN00*.jpg"))[:2]
MIXED = [
    DATA / "camera-trap" / "megadetector" / n
    for n in ("idaho-camera-traps.jpg", "channel-islands-thumb.jpg")
]


@pytest.fixture
def settings(settings):
    """This test's model server runs YOLOX-Nano, a real detector, at its typical threshold."""
    return settings.with_overrides(model_path=YOLOX_TFLITE, detection_threshold=0.25)


def upload(page, live_server: str, run_worker) -> str:
    return finished(
        page,
        live_server,
        run_worker,
        {
            **{f"heron-pond/{p.name}": p.read_bytes() for p in HERON},
            **{f"tuscany/{p.name}": p.read_bytes() for p in TUSCANY},
            **{f"mixed/{p.name}": p.read_bytes() for p in MIXED},
        },
    )


def review_the_burst(page, live_server: str, job_id: str) -> int:
    """Accepts every heron frame where YOLOX boxed an animal and draws the heron where it did
    not; marks the Tuscany photos empty. Returns how many images were reviewed."""
    base = f"{live_server}/api/jobs/{job_id}"
    items = page.request.get(f"{base}/media?per_page=50").json()["media"]
    for item in items:
        if item["folder"] == "heron-pond":
            found = any(
                d["category"] == "animal" and d["confidence"] >= 0.25 for d in item["detections"]
            )
            body = (
                {"action": "accept", "media_id": item["id"]}
                if found
                else {
                    "action": "add",
                    "media_id": item["id"],
                    "category": "animal",
                    "bbox": [0.45, 0.6, 0.15, 0.3],
                }
            )
        elif item["folder"] == "tuscany":
            body = {"action": "empty", "media_id": item["id"]}
        else:
            continue
        done = page.request.post(
            f"{base}/reviews", headers=SCRIPT, data={**body, "reviewer": "Ana"}
        )
        assert done.status == 201, done.text()
    return len(HERON) + len(TUSCANY)


def test_dashboard_and_accuracy_page(browser_page, live_server, run_worker) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    job_id = upload(page, live_server, run_worker)
    page.goto(f"{live_server}/jobs/{job_id}")
    rows = page.locator("#camera-rows tr")
    expect(rows).to_have_count(3)
    expect(rows.first.locator("td").first).to_have_text("heron-pond")  # by folder name
    page.click("#camera-table th[data-key='detections']")  # numbers: most first
    expect(page.locator("#camera-table th[data-key='detections']")).to_have_attribute(
        "aria-sort", "descending"
    )
    counts = [int(t) for t in rows.locator("td:nth-child(3)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    expect(page.locator("#camera-rows td", has_text="43.4")).to_have_count(1)  # Tuscany's GPS
    for chart in ("chart-hours", "chart-days", "chart-map"):
        expect(page.locator(f"#{chart}")).to_have_js_property("complete", True)
        assert page.eval_on_selector(f"#{chart}", "img => img.naturalWidth") > 0, chart
    page.locator("#dashboard").screenshot(path=str(ARTIFACTS / "dashboard.png"))
    # the results page's own requests (counts at the slider's threshold) finish before leaving,
    # so none is cut off by the navigation and counted as a failure
    page.wait_for_load_state("networkidle")
    for name in ("hours", "days", "map"):
        page.goto(f"{live_server}/jobs/{job_id}/charts/{name}.svg")
        page.screenshot(path=str(ARTIFACTS / f"chart-{name}.png"))

    reviewed = review_the_burst(page, live_server, job_id)
    page.goto(f"{live_server}/jobs/{job_id}")
    page.wait_for_load_state("networkidle")
    page.click("#accuracy-link")
    expect(page.locator("#review-basis")).to_contain_text(f"{reviewed} image(s) compared")
    expect(page.locator("#review-warning")).to_contain_text("fewer than 50")
    animal = page.locator("#review-categories tr[data-category='animal'] td")
    expect(animal.nth(2)).not_to_have_text("–")  # recall of animals is defined
    expect(page.locator("#review-curve svg")).to_be_visible()
    page.fill("input[name=recall]", "0.95")
    page.click("#options button")
    expect(page.locator("#review-recall")).to_contain_text("you would review")

    page.set_input_files(
        "input[name=truth]", [str(PACKAGE / "observations.csv"), str(PACKAGE / "media.csv")]
    )
    page.click("#truth-form button")
    expect(page.locator("#truth-format")).to_contain_text("Camtrap DP")
    expect(page.locator("#truth-basis")).to_contain_text("10 image(s) compared")
    expect(page.locator("#truth-unpaired")).to_contain_text(
        "413 truth file(s) are not in the results"
    )
    expect(page.locator("#truth-recall")).to_contain_text("of animal")
    page.screenshot(path=str(ARTIFACTS / "accuracy.png"), full_page=True)
    assert errors == []
