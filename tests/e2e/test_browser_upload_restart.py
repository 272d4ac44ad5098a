"""Issue 33, item 9: an upload in flight survives a restart of the site. Real gunicorn, real
headless Chromium and Dropzone: a card of three 8 MB chunks, and gunicorn is stopped as the
browser sends the second. The page says the server is not answering and waits; a new gunicorn
starts on the same address; the page asks what the server holds, sends the chunk again, and the
card arrives whole, byte for byte, and goes on to become a job."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA
from tests.deploy.gunicorn import gunicorn_env, serving, start_gunicorn

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHOTOS = sorted((DATA / "camera-trap").rglob("*.JPG"))


def card(at_least: int) -> bytes:
    """A stored (not compressed) zip of real trap photos, repeated under new names until it
    is `at_least` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        n = 0
        while buffer.tell() < at_least:
            photo = PHOTOS[n % len(PHOTOS)]
            archive.writestr(f"CAM{n // len(PHOTOS):02d}/{n:04d}-{photo.name}", photo.read_bytes())
            n += 1
    return buffer.getvalue()


def test_an_upload_survives_a_restart_of_the_site(browser_page, settings, tmp_path: Path) -> None:
    page, errors = browser_page
    data = card(2 * 8 * 1024 * 1024 + 1)  # three chunks of 8 MB
    path = tmp_path / "card.zip"
    path.write_bytes(data)
    env = gunicorn_env(settings, tmp_path)
    log = tmp_path / "gunicorn.log"
    base = f"http://{env['GUNICORN_BIND']}"
    first = start_gunicorn(env, log)
    chunks: list[Any] = []

    def restart_on_the_second_chunk(route: Any) -> None:
        chunks.append(route.request)
        if len(chunks) == 2:  # the first chunk is stored; the site goes away under the second
            first.terminate()
            first.wait(timeout=30)
        route.continue_()

    with serving(first, base, "gunicorn", log):
        page.goto(base + "/")
        page.wait_for_selector("input.dz-hidden-input", state="attached")
        draft = page.get_attribute("#dropzone", "data-draft")
        page.route("**/upload/chunk", restart_on_the_second_chunk)
        page.fill("#email", "ranger@example.org")
        page.set_input_files("input.dz-hidden-input", [str(path)])
        page.wait_for_selector("text=The server is not answering", timeout=60_000)
        assert page.locator("#submit").is_disabled()  # nothing can be submitted half-sent
    with serving(start_gunicorn(env, log), base, "gunicorn again", log):
        page.wait_for_selector("text=1 file(s) uploaded completely", timeout=120_000)
        assert draft is not None
        assert (settings.data_dir / "drafts" / draft / "card.zip").read_bytes() == data
        assert len(chunks) >= 4  # the second chunk went again, then the third
        page.click("#submit")
        page.wait_for_url("**/jobs/*", timeout=30_000)
    lost = [e for e in errors if "net::ERR_CONNECTION_REFUSED" not in e]
    assert lost == [], lost  # what failed was only what the stopped site refused
