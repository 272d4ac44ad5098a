"""The docs' Python client (docs/scripts/python.md) run as it is written, against the live site
with a real model server: upload, wait, review, export again, download."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO
from tests.web.helpers import photo, zip_of

PAGE = REPO / "docs" / "scripts" / "python.md"


def client_code() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert len(blocks) == 1, "the page should hold exactly one Python example"
    return blocks[0]


def test_the_docs_python_client_uploads_reviews_and_downloads(
    live_server: str, workers, app, tmp_path: Path
) -> None:
    script = tmp_path / "client.py"
    script.write_text(client_code())
    card = tmp_path / "card.zip"
    card.write_bytes(zip_of({"cam1/a.jpg": photo(0), "cam1/b.jpg": photo(5)}))
    workers.start()

    ran = subprocess.run(  # noqa: PLW1510 - the return code is asserted with the output
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={"TRAPLINE_URL": live_server, "CARD": str(card), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    job = re.search(r"^job (\S+)$", ran.stdout, re.MULTILINE)
    assert job is not None, ran.stdout
    rejected = re.search(r"^rejected box (\d+) at ", ran.stdout, re.MULTILINE)
    assert rejected is not None, ran.stdout  # the test detector's fixed boxes give one to reject

    saved = tmp_path / f"trapline-{job.group(1)[:8]}.zip"
    with zipfile.ZipFile(saved) as z:
        names = set(z.namelist())
        assert {"report.xlsx", "detections.json", "cam1/a.jpg", "cam1/b.jpg"} <= names
        rows = z.read("detections.csv").decode()
    # the downloaded zip is the export made after the review: the rejected box says so
    assert "rejected" in rows

    with app.test_client() as client:
        media = client.get(f"/api/jobs/{job.group(1)}/media").get_json()["media"]
    verdicts = {d["id"]: d["review"] for m in media for d in m["detections"]}
    assert verdicts[int(rejected.group(1))] == "rejected"
