"""A location remembers a rejected branch, in a real headless Chromium under the site's CSP
(issue 29, item 5): alice rejects the branch of a project's first card on the project's Repeats
page by keys and is told the rule it became; the location's next card, processed by a real
worker, has its branch boxes suppressed; its job page says so and links to the Repeats page,
which shows the rule with the crops it holds, and alice switches the rule off there. What the
pages say is what the API holds. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import expect

from shared.people.projects import create_project
from shared.people.tokens import create_token
from shared.people.users import create_user
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser_teams import PASSWORD, log_in
from tests.web.test_repeats_api import card

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def send(live_server: str, upload: bytes, token: str, project: int) -> str:
    created = requests.post(
        live_server + "/api/jobs",
        data={"email": "a@example.org", "project": str(project)},
        files={"files": ("card.zip", upload, "application/zip")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_a_rejected_branch_is_remembered(browser_page, live_server, run_worker, app) -> None:
    page, errors = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    store = app.extensions["trapline.store"]
    alice = create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    project = create_project(store, "Ridge season", alice, now=NOW)
    token, _ = create_token(store, alice.id, "uploads", now=NOW)
    auth = {"Authorization": f"Bearer {token}"}
    first, _, _ = card(range(20), range(5))
    send(live_server, first, token, project.id)
    run_worker()

    log_in(page, live_server, "alice")
    page.goto(f"{live_server}/projects/{project.id}/repeats")
    branch = page.locator("details.repeat", has_text="cam1 · animal · 20 files")
    expect(branch).to_have_count(1)
    page.locator("h1").click()
    page.keyboard.press("ArrowDown")  # the person box in every file is the first, larger group
    page.keyboard.press("x")
    expect(page.locator("#repeats-message")).to_contain_text(
        "Rejected the group: 20 boxes in 20 files. Z undoes it. Remembered as rule"
    )
    expect(page.locator("#repeats-message")).to_contain_text(
        "of cam1: its later cards' boxes there are suppressed."
    )
    rules = requests.get(
        f"{live_server}/api/projects/{project.id}/rules", headers=auth, timeout=30
    ).json()["rules"]
    assert [(r["location"], r["category"], r["active"]) for r in rules] == [
        ("cam1", "animal", True)
    ]
    expect(page.locator(f"#rule-{rules[0]['id']}")).to_contain_text("0 boxes suppressed here")

    second, _, _ = card(range(20, 30), range(5, 10))
    second_id = send(live_server, second, token, project.id)
    run_worker()
    page.goto(f"{live_server}/jobs/{second_id}")
    link = page.locator("#suppressed-link")
    expect(link).to_contain_text("10 boxes suppressed by 1 repeat rule of this card's locations")
    page.screenshot(path=str(ARTIFACTS / "repeat-rules-job.png"), full_page=True)
    link.click()
    rule = page.locator(f"#rule-{rules[0]['id']}")
    expect(rule).to_contain_text("10 boxes suppressed here")
    expect(rule.locator("li.crop.suppressed")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "repeat-rules-suppressed.png"), full_page=True)
    rule.locator("button.rule-off").click()
    expect(page.locator("#repeats-message")).to_contain_text(
        f"Rule {rules[0]['id']} switched off: 10 boxes count again."
    )
    expect(page.locator("#suppressed")).to_have_count(0)  # nothing held on this card now
    after = requests.get(
        f"{live_server}/api/jobs/{second_id}/summary", headers=auth, timeout=30
    ).json()
    assert after["outcomes"]["animal"] == 15
    assert errors == []
