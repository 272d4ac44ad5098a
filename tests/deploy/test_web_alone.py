"""The web process installs from the `[web]` extra alone and serves its pages without the model
stack: a fresh virtual environment, the project installed into it (not the work tree on
sys.path), a real Redis, the upload page and /healthz."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SERVE = """
import json, sys
from pathlib import Path
from shared.settings import Settings
from web import create_app

settings = Settings(data_dir=Path(sys.argv[1]), redis_url=sys.argv[2])
app = create_app({"TESTING": True}, settings=settings)
client = app.test_client()
page, health = client.get("/"), client.get("/healthz")
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] in ("tensorflow", "PIL", "av", "onnxruntime", "model_server"))
print(json.dumps({"page": page.status_code, "dropzone": b"dropzone" in page.data.lower(),
                  "health": health.get_json(), "heavy": heavy,
                  "web_from": str(Path(sys.modules["web"].__file__).parent)}))
app.extensions["trapline.store"].dispose()
app.extensions["trapline.redis"].connection_pool.disconnect()
"""


def test_the_web_extra_alone_installs_and_serves_the_upload_page(
    tmp_path: Path, redis_server
) -> None:
    # the project's own files, copied so that building the wheel leaves nothing in the work tree
    source = tmp_path / "source"
    for name in ("shared", "web", "model_server"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    env_dir = tmp_path / "web-env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            f"{source}[web]",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    served = subprocess.run(
        [str(python), "-c", SERVE, str(tmp_path / "data"), redis_server.url],
        cwd=tmp_path,  # not the repository: the installed package is what runs
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert served.returncode == 0, served.stderr[-3000:]
    facts = json.loads(served.stdout.strip().splitlines()[-1])
    assert facts["page"] == 200 and facts["dropzone"]
    assert facts["health"]["redis"] == "ok" and facts["health"]["model_servers"] == 0
    assert facts["heavy"] == []  # no TensorFlow, Pillow, PyAV, onnxruntime or model server
    assert "site-packages" in facts["web_from"] and str(REPO) not in facts["web_from"]
    assert sys.prefix not in facts["web_from"]
