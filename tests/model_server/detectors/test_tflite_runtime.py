"""TFLite models run on LiteRT without importing TensorFlow, with exactly the boxes TensorFlow's
own tf.lite gives; and the pipeline makes a YOLO model's input on its loader threads, with the
same boxes as the detector called on the photo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from model_server.detectors import load_detector
from model_server.detectors.base import PreparingDetector
from model_server.media.imaging import pixels_of
from model_server.pipeline.batch import run_batch
from model_server.pipeline.options import PipelineOptions
from shared.inputs import collect_inputs
from tests.conftest import DATA, REPO, YOLOX_TFLITE

ENA24 = DATA / "camera-trap" / "ena24"
PHOTOS = [ENA24 / "2480.jpg", ENA24 / "5899.jpg", ENA24 / "9455.jpg"]

# Loads the model as the model server does and runs it on the photos; with "tensorflow" it
# first hides LiteRT, as on a platform without its wheel.
PROBE = """
import json, logging, sys
if sys.argv[2] == "tensorflow":
    sys.modules["ai_edge_litert"] = None
from pathlib import Path
import numpy as np
from PIL import Image
from model_server.detectors import load_detector
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
detector = load_detector(Path(sys.argv[1]))
found = []
for photo in sys.argv[3:]:
    with Image.open(photo) as im:
        pixels = np.asarray(im.convert("RGB"))
    found.append([d.as_stored() for d in detector.detect(pixels, photo)])
detector.close()
print(json.dumps({"tensorflow": "tensorflow" in sys.modules, "found": found}))
"""


def probe(model: Path, runtime: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(model), runtime, *map(str, PHOTOS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("which", ["yolox", "megadetector-lite"])
def test_tflite_models_run_without_tensorflow_and_match_it(
    which: str, request: pytest.FixtureRequest
) -> None:
    model = YOLOX_TFLITE if which == "yolox" else request.getfixturevalue("megadetector_lite")
    litert, litert_log = probe(model, "litert")
    tensorflow, tensorflow_log = probe(model, "tensorflow")
    assert litert["tensorflow"] is False
    assert "on LiteRT (ai-edge-litert)" in litert_log
    assert tensorflow["tensorflow"] is True
    assert "(tf.lite)" in tensorflow_log
    assert any(litert["found"]), "no boxes at all: the comparison would say nothing"
    assert litert["found"] == tensorflow["found"]  # the same kernels: bit for bit


def test_the_pipeline_letterboxes_on_its_loaders_with_the_detectors_own_boxes(
    tmp_path: Path,
) -> None:
    detector = load_detector(YOLOX_TFLITE)
    assert isinstance(detector, PreparingDetector)
    try:
        result = run_batch(
            collect_inputs(PHOTOS),
            detector,
            tmp_path / "work",
            tmp_path / "result.zip",
            PipelineOptions(),
        )
        direct = {}
        for photo in PHOTOS:
            with Image.open(photo) as im:
                direct[photo.name] = [
                    d.as_stored() for d in detector.detect(pixels_of(im.convert("RGB")), photo.name)
                ]
    finally:
        detector.close()
    assert result.clock.calls["letterbox"] == len(PHOTOS)  # made by the loaders, one per photo
    with (tmp_path / "work" / "reports" / "detections.json").open(encoding="utf-8") as fh:
        written = {Path(i["file"]).name: i["detections"] for i in json.load(fh)["images"]}
    assert any(direct.values())
    for name, boxes in direct.items():
        kept = [b for b in boxes if b["conf"] >= 0.005]
        assert len(written[name]) == len(kept)
        for got, want in zip(written[name], kept, strict=True):
            assert got["category"] == want["category"]
            # MegaDetector's JSON keeps 3 decimals of a confidence and 4 of a box
            assert got["conf"] == pytest.approx(want["conf"], abs=0.001)
            assert np.allclose(got["bbox"], want["bbox"], atol=0.0001)
