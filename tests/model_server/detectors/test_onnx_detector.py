"""ONNX models through onnxruntime: the shared YOLOX-Nano export gives the boxes its TFLite twin
gives on real trap photos, and a MegaDetector v5 export's YOLOv5 layout (centred letterbox,
0-1 pixels, decoded rows, three classes) is decoded right, shown with a small graph built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_server.detectors import load_detector
from shared.errors import ModelLoadError
from tests.conftest import DATA, MODELS, YOLOX_TFLITE
from tests.model_server.detectors.onnx_graphs import fixed_rows_model

YOLOX_ONNX = MODELS / "yolox_nano.onnx"


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_yolox_onnx_agrees_with_its_tflite_twin_on_real_photos() -> None:
    """Same weights (the TFLite file stores them as float16): same boxes at 0.25."""
    onnx_model, tflite_model = load_detector(YOLOX_ONNX), load_detector(YOLOX_TFLITE)
    assert onnx_model.info.name == tflite_model.info.name.replace(
        "yolox_nano_float16_quantize", "yolox_nano"
    )
    photos = sorted((DATA / "camera-trap" / "ena24").glob("*.jpg"))
    compared = 0
    for path in photos:
        image = rgb(path)
        a = [d for d in onnx_model.detect(image, path.name) if d.conf >= 0.25]
        b = [d for d in tflite_model.detect(image, path.name) if d.conf >= 0.25]
        assert len(a) == len(b), path.name
        for x, y in zip(a, b, strict=True):
            assert x.category is y.category and abs(x.conf - y.conf) < 0.02
            assert _iou(x.bbox, y.bbox) > 0.95
            compared += 1
    assert compared >= 5


MD_ROWS = np.array(
    [
        # cx, cy, w, h (pixels of the 1280 input), objectness, animal, person, vehicle
        [640, 640, 200, 100, 0.9, 0.9, 0.05, 0.05],  # an animal (objectness x input max)
        [645, 642, 200, 100, 0.5, 0.9, 0.05, 0.05],  # the same animal again, weaker: suppressed
        [300, 500, 50, 120, 0.8, 0.1, 0.9, 0.1],  # a person
        [900, 700, 80, 80, 0.05, 0.1, 0.1, 0.1],  # below every threshold kept
    ]
)


def test_megadetector_v5_layout_is_decoded(tmp_path: Path) -> None:
    model = fixed_rows_model(tmp_path / "md_v5a.0.0.onnx", MD_ROWS, scaled=(0, 4))
    detector = load_detector(model)
    assert detector.info.is_megadetector and detector.info.typical_threshold == 0.2
    white = np.full((1080, 1920, 3), 255, dtype=np.uint8)
    found = detector.detect(white, "white.jpg")
    assert [(d.category.label, round(d.conf, 4)) for d in found] == [
        ("animal", 0.81),
        ("person", 0.72),
    ]  # pixels reached the model as 0-1: 0.9 x 1.0
    # 1920x1080 scaled by 2/3 to 1280x720, centred: 280 px of padding above
    assert np.allclose(found[0].bbox, (810 / 1920, 465 / 1080, 300 / 1920, 150 / 1080))
    assert np.allclose(found[1].bbox, (412.5 / 1920, 240 / 1080, 75 / 1920, 180 / 1080))


def test_an_onnx_model_of_another_layout_is_refused(tmp_path: Path) -> None:
    odd = fixed_rows_model(tmp_path / "odd.onnx", np.zeros((4, 7)), size=640)
    with pytest.raises(ModelLoadError, match="7 output columns"):
        load_detector(odd)
