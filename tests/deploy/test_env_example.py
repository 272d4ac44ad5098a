"""The deploy steps end with a working model (issue 28, item 10): the settings file the deploy guide
installs points at the files its step 4 installs, and those are files `trapline-models` makes
without a checksum the sysadmin must find first."""

from __future__ import annotations

from pathlib import Path

from model_server.detectors.download import MODELS
from model_server.detectors.megadetector_lite import FILENAME
from tests.conftest import REPO


def settings(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_the_env_example_points_at_what_step_4_installs() -> None:
    env = settings(REPO / "deploy" / "trapline.env.example")
    readme = (REPO / "docs" / "sysadmins" / "deploy.md").read_text(encoding="utf-8")
    models = Path("/srv/trapline/models")
    assert Path(env["TRAPLINE_MODEL_PATH"]) == models / FILENAME
    assert "trapline-models install megadetector-lite --dir /srv/trapline/models" in readme
    embedder = Path(env["TRAPLINE_SPECIES_EMBEDDER"])
    assert embedder.parent == models
    assert "trapline-models download yolox_nano_onnx --dir /srv/trapline/models" in readme
    assert MODELS["yolox_nano_onnx"].filename == embedder.name
    assert MODELS["yolox_nano_onnx"].sha256  # pinned: no checksum to look up first
