"""The documentation: `mkdocs build --strict` passes (the test command runs it too), and the
app serves the built site at /docs/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def build(into: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(into)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )


def fetch(client, url: str) -> tuple[int, bytes]:
    """A file the app sends from disk, read and closed."""
    answer = client.get(url)
    try:
        return answer.status_code, answer.get_data()
    finally:
        answer.close()


def test_the_site_builds_and_the_app_serves_it(app, client, tmp_path: Path) -> None:
    app.config["TRAPLINE_DOCS_SITE"] = str(tmp_path / "nowhere")
    missing = client.get("/docs/")
    assert missing.status_code == 404
    assert b"mkdocs build" in missing.data

    built = build(tmp_path / "site")
    assert built.returncode == 0, built.stderr
    app.config["TRAPLINE_DOCS_SITE"] = str(tmp_path / "site")

    status, home = fetch(client, "/docs/")
    assert status == 200
    assert b"Camera-trap detection for field researchers" in home
    assert b"TRAPLINE_REPEAT_MAX_BOX_AREA" in fetch(client, "/docs/reference/settings/")[1]
    assert b"events_with_animals" in fetch(client, "/docs/reference/columns/")[1]
    status, spec = fetch(client, "/docs/reference/openapi.json")
    assert status == 200 and json.loads(spec)["openapi"] == "3.1.0"
    assert fetch(client, "/docs/../pyproject.toml")[0] == 404
