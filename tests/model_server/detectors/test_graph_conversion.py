"""A MegaDetector frozen graph converted once to ONNX (`trapline-models convert`, tf2onnx): kept
beside the graph only when it finds the same boxes on the check photos, then run by onnxruntime
without TensorFlow; refused when its boxes differ by more than MegaDetector's JSON precision;
not used once either file changes."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_server.detectors import load_detector
from model_server.detectors.graph_conversion import convert, photo_pixels, tf2onnx_converter
from model_server.detectors.megadetector_onnx import MegaDetectorOnnx, twin_paths
from model_server.detectors.megadetector_tf import MegaDetectorGraph
from shared.errors import ModelLoadError
from tests.conftest import DATA, REPO
from tests.images import red_patch_image
from tests.md_graph import _red_patch, freeze_graph

ENA24 = DATA / "camera-trap" / "ena24"
FIXED_NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def check_set(tmp_path: Path) -> list[Path]:
    """The ENA24 photos and two with a red 'animal', so every category has boxes to compare."""
    made = []
    for i, patch in enumerate([(100, 60, 180, 150), (20, 200, 330, 290)]):
        path = tmp_path / f"red{i}.png"
        red_patch_image((400, 300), patch).save(path)
        made.append(path)
    return sorted(ENA24.glob("*.jpg")) + made


@pytest.fixture
def graph(tmp_path: Path, red_patch_model: Path) -> Path:
    """The red-patch graph in a folder of its own, where its twin is written."""
    return Path(shutil.copy(red_patch_model, tmp_path / "md_v4.1.0.pb"))


def _shifted(by: float) -> Any:
    """The red-patch graph with every box moved down by `by`: another model, nearly the same."""

    def build(tf: Any, image: Any) -> tuple[Any, Any, Any, Any]:
        boxes, scores, classes, count = _red_patch(tf, image)
        return boxes + tf.constant([by, 0.0, by, 0.0]), scores, classes, count

    return build


def _converting_instead(other: Path, graph: Path, output: Path, opset: int) -> str:
    """A converter that hands back the conversion of `other`, as a faulty one might."""
    return tf2onnx_converter(other, output, opset)


@pytest.mark.slow
def test_the_twin_is_kept_with_its_record_and_finds_what_the_graph_finds(
    graph: Path, check_set: list[Path]
) -> None:
    lines: list[str] = []
    twin = convert(graph, check_set, now=lambda: FIXED_NOW, report=lines.append)
    onnx_path, record_path = twin_paths(graph)
    assert twin == onnx_path and onnx_path.is_file()
    record = json.loads(record_path.read_text())
    assert record["photos"] == len(check_set)
    assert record["max_conf_diff"] <= 0.005 and record["max_box_diff"] <= 0.001
    assert record["converter"].startswith("tf2onnx 1.17.0")
    assert record["converted_at"] == "2026-11-03T09:30:00+00:00"
    assert record["graph_s_per_photo"] > 0 and record["twin_s_per_photo"] > 0
    assert any("kept beside md_v4.1.0.pb" in line for line in lines)

    served = load_detector(graph)
    original = MegaDetectorGraph(graph)
    try:
        assert isinstance(served, MegaDetectorOnnx)
        assert served.info.name == original.info.name == "MegaDetector v4.1.0"
        assert served.info.detector_id == "md_v4.1.0.pb"  # what MegaDetector's JSON says
        assert "onnxruntime" in served.info.notes
        boxes = 0
        for photo in check_set:
            pixels = photo_pixels(photo)
            want = original.detect(pixels)
            got = served.detect(pixels, photo.name)
            assert [d.category for d in got] == [d.category for d in want]
            assert [d.conf for d in got] == pytest.approx([d.conf for d in want], abs=0.005)
            assert np.allclose([d.bbox for d in got], [d.bbox for d in want], atol=0.001)
            boxes += len(want)
        # every box of the graph was compared: a person and a vehicle on every photo, and an
        # animal on the red ones
        assert record["boxes"] == boxes >= 2 * len(check_set) + 2
    finally:
        served.close()
        original.close()


@pytest.mark.slow
@pytest.mark.parametrize(("shift", "kept"), [(0.0004, True), (0.01, False)])
def test_a_conversion_that_moves_boxes_past_the_tolerance_is_refused(
    shift: float, kept: bool, graph: Path, check_set: list[Path], tmp_path: Path
) -> None:
    other = freeze_graph(tmp_path / "shifted.pb", _shifted(shift))
    run = partial(
        convert, graph, check_set, converter=partial(_converting_instead, other), report=print
    )
    onnx_path, record_path = twin_paths(graph)
    if kept:
        run()
        assert 0.0003 < json.loads(record_path.read_text())["max_box_diff"] <= 0.001
        return
    with pytest.raises(ModelLoadError, match="Refused: the converted graph finds other boxes"):
        run()
    assert not onnx_path.exists() and not record_path.exists()
    assert not list(graph.parent.glob("*.part"))
    detector = load_detector(graph)
    assert isinstance(detector, MegaDetectorGraph)  # the graph itself, on TensorFlow
    detector.close()


def test_a_check_set_of_too_few_photos_is_refused_before_converting(graph: Path) -> None:
    with pytest.raises(ModelLoadError, match="check set has 2 photos; give at least 5"):
        convert(graph, sorted(ENA24.glob("*.jpg"))[:2])
    assert not any(p.exists() for p in twin_paths(graph))


@pytest.mark.slow
def test_a_twin_whose_files_changed_is_not_used(
    graph: Path, check_set: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    convert(graph, check_set, report=print)
    onnx_path, _ = twin_paths(graph)
    with onnx_path.open("ab") as fh:  # a byte more: no longer the file that was checked
        fh.write(b"\0")
    with caplog.at_level(logging.WARNING):
        detector = load_detector(graph)
    assert isinstance(detector, MegaDetectorGraph)
    detector.close()
    assert "md_v4.1.0.pb.onnx changed after it was checked" in caplog.text

    convert(graph, check_set, report=print)
    freeze_graph(graph, _shifted(0.02))  # another graph file under the same name
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        detector = load_detector(graph)
    assert isinstance(detector, MegaDetectorGraph)
    detector.close()
    assert "it was converted from another md_v4.1.0.pb" in caplog.text


# Loads the graph as the model server does and says what it runs on.
PROBE = """
import json, logging, sys
from pathlib import Path
from model_server.detectors import load_detector
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
detector = load_detector(Path(sys.argv[1]))
print(json.dumps({"tensorflow": "tensorflow" in sys.modules, "class": type(detector).__name__}))
"""


def _convert_command(graph: Path, photos: Path) -> subprocess.CompletedProcess[str]:
    """`trapline-models convert` as a sysadmin runs it."""
    cli = Path(sys.executable).with_name("trapline-models")
    return subprocess.run(
        [str(cli), "convert", str(graph), "--check", str(photos)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_trapline_models_convert_then_the_server_runs_the_twin_without_tensorflow(
    graph: Path, check_set: list[Path], tmp_path: Path
) -> None:
    folder = tmp_path / "check"
    folder.mkdir()
    for photo in check_set:
        shutil.copy(photo, folder / photo.name)
    done = _convert_command(graph, folder)
    assert done.returncode == 0, done.stderr
    assert "runs md_v4.1.0.pb.onnx in place of md_v4.1.0.pb" in done.stdout
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(graph)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    said = json.loads(probe.stdout.splitlines()[-1])
    assert said == {"tensorflow": False, "class": "MegaDetectorOnnx"}
    assert "(onnxruntime; checked against the TensorFlow graph on 13 photos" in probe.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    refused = _convert_command(graph, empty)
    assert refused.returncode == 1
    assert "check set has 0 photos" in refused.stderr
