"""The browser tests' headless Chromium page and where their screenshots go."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
# The docs' screenshots are these tests' own: with TRAPLINE_DOCS_SCREENSHOTS=1 a test's `shoot`
# also writes its picture into docs/img/ (commit what changed).
DOCS_IMAGES = REPO / "docs" / "img"
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

        def page_error(exc: Any) -> None:
            errors.append(str(exc))

        def console(msg: Any) -> None:
            # the page needs no inline script: any Content-Security-Policy refusal is a defect
            if "Content Security Policy" in msg.text:
                errors.append(msg.text)

        def request_failed(req: Any) -> None:
            # the browser itself cancels a request when the page navigates away (a download
            # ends its navigation so too, and a summary the page was refreshing when a link was
            # clicked): no server or page defect. Any other failure is one.
            if req.failure != "net::ERR_ABORTED":
                errors.append(f"request failed: {req.url} ({req.failure})")

        page.on("pageerror", page_error)
        page.on("console", console)
        page.on("requestfailed", request_failed)
        yield page, errors
        browser.close()


def shoot(page: Any, name: str, *, full_page: bool = True) -> None:
    """A screenshot into test-artifacts/, and into the docs when they are being refreshed."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)
    if os.environ.get("TRAPLINE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        docs_image(ARTIFACTS / name, DOCS_IMAGES / name)


def docs_image(shot: Path, target: Path) -> None:
    """A screenshot as the docs keep it: 256 colours, which pages of flat colour need, at about a
    third of the bytes."""
    from PIL import Image

    with Image.open(shot) as picture:
        picture.convert("RGB").quantize(256).save(target, optimize=True)
