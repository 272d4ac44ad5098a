"""`trapline-batch --classes`: a zip of example photos (one folder per class) builds a throwaway
class set for the run; a class set's name is looked up in the site's database, and a name that
is not there leaves the detections as they are and says why."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from shared.settings import Settings
from shared.store import open_configured_store
from shared.store.class_sets import list_sets
from tests.conftest import DATA, MODELS

ENA = DATA / "camera-trap" / "ena24"


@pytest.fixture(autouse=True)
def embedder_and_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRAPLINE_SPECIES_EMBEDDER", str(MODELS / "yolox_nano.onnx"))
    monkeypatch.setenv("TRAPLINE_DATA_DIR", str(tmp_path / "site"))


def examples(tmp_path: Path) -> Path:
    path = tmp_path / "examples.zip"
    layout = {
        "opossum": ["2480.jpg", "2573.jpg"],
        "skunk": ["2999.jpg", "3084.jpg"],
        "bear": ["9455.jpg"],
        "loose.jpg": [],
    }
    with zipfile.ZipFile(path, "w") as z:
        for species, names in layout.items():
            for name in names:
                z.write(ENA / name, f"{species}/{name}")
        z.write(ENA / "49.jpg", "49.jpg")  # at the top: no class folder
    return path


def test_a_zip_of_examples_builds_a_throwaway_set(
    megadetector_lite: Path, run_batch_cli, tmp_path: Path
) -> None:
    code, out, _, result = run_batch_cli(
        ENA / "2595.jpg", "--model", megadetector_lite, "--classes", examples(tmp_path)
    )
    assert code == 0 and result is not None
    assert "Class set from examples.zip: 5 examples of 3 classes (bear, opossum, skunk)" in out
    assert "49.jpg: not in a class folder" in out
    assert "Species (class set 'examples'" in out
    md = result.json()
    assert sorted(md["classification_categories"].values()) == ["bear", "opossum", "skunk"]
    box = max(md["images"][0]["detections"], key=lambda d: d["conf"])
    rows = list(result.workbook()["Detections"].iter_rows(values_only=True))
    header = rows[0]
    best = max((dict(zip(header, r, strict=True)) for r in rows[1:]), key=lambda r: r["confidence"])
    assert best["species_source"] == "machine" and best["species"]
    if best["species"] != "unknown":
        assert box["classifications"][0][0] == next(
            k for k, v in md["classification_categories"].items() if v == best["species"]
        )
    # nothing was written to the site's database: the set was for this run alone
    engine = open_configured_store(Settings.from_env())
    try:
        assert list_sets(engine) == []
    finally:
        engine.dispose()


def test_an_unknown_set_name_leaves_the_detections(megadetector_lite: Path, run_batch_cli) -> None:
    code, out, _, result = run_batch_cli(
        ENA / "2595.jpg", "--model", megadetector_lite, "--classes", "no-such-set"
    )
    assert code == 0 and result is not None
    assert "Species: none suggested: there is no class set named 'no-such-set'" in out
    assert "classification_categories" not in result.json()


def test_the_embedder_installed_beside_the_model_needs_no_setting(
    megadetector_lite: Path, run_batch_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `setup.sh` and the deploy steps leave it: the detector and yolox_nano.onnx in one
    folder, TRAPLINE_SPECIES_EMBEDDER unset."""
    monkeypatch.delenv("TRAPLINE_SPECIES_EMBEDDER")
    models = tmp_path / "models"
    models.mkdir()
    model = models / megadetector_lite.name
    model.symlink_to(megadetector_lite)
    model.with_suffix(".json").symlink_to(megadetector_lite.with_suffix(".json"))
    code, _, err, result = run_batch_cli(
        ENA / "2595.jpg", "--model", model, "--classes", examples(tmp_path)
    )
    assert code != 0 and result is None
    assert "no species embedder is installed: put yolox_nano.onnx beside the detector" in err
    (models / "yolox_nano.onnx").symlink_to(MODELS / "yolox_nano.onnx")
    code, out, _, result = run_batch_cli(
        ENA / "2595.jpg", "--model", model, "--classes", examples(tmp_path)
    )
    assert code == 0 and result is not None, out
    assert "Class set from examples.zip: 5 examples of 3 classes" in out
    assert "classification_categories" in result.json()
