"""Straight to gunicorn, with no nginx buffering in front (issue 33, items 8 and 17): a body
sent without a length is held to its route's limit like one with a length, and gunicorn's
control socket is where the config puts it, for the service's user only."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.deploy.gunicorn import gunicorn, gunicorn_env

pytestmark = pytest.mark.slow
MIB = 1 << 20


@pytest.fixture
def site(settings, redis_conn, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = gunicorn_env(settings, tmp_path)
    with gunicorn(env, tmp_path / "gunicorn.log") as base:
        yield base, Path(env["GUNICORN_CONTROL_SOCKET"])


def chunked(total: int, head: bytes = b"") -> Iterator[bytes]:
    """`head`, then spaces, `total` bytes in all, as a generator: requests sends it with
    `Transfer-Encoding: chunked` and no `Content-Length`."""
    yield head
    left = total - len(head)
    while left > 0:
        piece = min(left, 256 * 1024)
        yield b" " * piece
        left -= piece


def test_a_body_without_a_length_is_held_to_its_routes_limit(site) -> None:
    base, _ = site
    over = requests.post(
        base + "/login",
        data=chunked(3 * MIB, b"user=alice&password=x&pad="),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    assert "Content-Length" not in over.request.headers
    assert over.request.headers["Transfer-Encoding"] == "chunked"
    assert over.status_code == 413, over.text[:300]
    assert "1 MB at most" in over.text

    within = requests.post(
        base + "/login",
        data=chunked(MIB - 1, b"user=alice&password=x&pad="),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    assert within.status_code == 400, within.text[:300]  # read whole: the form has no CSRF token
    assert "expired" in within.text


def test_the_control_socket_is_the_configs_and_private(site) -> None:
    _, socket = site
    assert stat.S_ISSOCK(socket.stat().st_mode)
    assert stat.S_IMODE(socket.stat().st_mode) == 0o600
    tool = shutil.which("gunicornc", path=str(Path(sys.executable).parent))
    assert tool is not None
    shown = subprocess.run(
        [tool, "-s", str(socket), "-c", "show workers", "-j"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert len(json.loads(shown.stdout)["workers"]) == 2, shown.stdout
