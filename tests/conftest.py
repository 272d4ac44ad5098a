"""Fixtures shared by every test: the real third-party data beside the repo, and test models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
MODELS = SHARED / "models"
YOLOX_TFLITE = MODELS / "yolox_nano_float16_quantize.tflite"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (DATA / "MANIFEST.md").is_file():
        raise pytest.UsageError(f"the shared test data is missing: expected {DATA}")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def red_patch_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A frozen graph with MegaDetector's tensor names whose animal box is the red patch."""
    from tests.md_graph import build_red_patch_graph

    return build_red_patch_graph(tmp_path_factory.mktemp("models") / "red_patch_md.pb")
