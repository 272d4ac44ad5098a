"""The browser tests' headless Chromium page and where their screenshots go."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1100, "height": 900}
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # the page needs no inline script: any Content-Security-Policy refusal is a defect
        page.on(
            "console", lambda msg: "Content Security Policy" in msg.text and errors.append(msg.text)
        )
        # a download ends its navigation as "aborted" in Chromium: that one is expected
        page.on(
            "requestfailed",
            lambda req: "/download/" in req.url or errors.append(f"request failed: {req.url}"),
        )
        yield page, errors
        browser.close()
