"""MegadetectorLite converted from zamba's PyTorch checkpoint without PyTorch: the restricted
checkpoint reader, the pinned checksums, and the converted model against the original (scores
of the original PyTorch model on the same photos, recorded once) and against MegaDetector v4.1's
boxes on the shared ENA24 frames."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_server.detectors import load_detector
from model_server.detectors.megadetector_lite import NAME, checkpoint_from
from model_server.detectors.torch_checkpoint import UnsafeCheckpoint, read_checkpoint
from shared.errors import DownloadError, ModelLoadError
from tests.conftest import DATA

ENA24 = DATA / "camera-trap" / "ena24"
HERON = DATA / "camtrap-dp" / "example" / "media" / "20210531082538-RCNX0031.JPG"
# The best box's score (objectness x class) of the original network, Megvii's YOLOX modules at
# 6ddff48 in PyTorch 2.13 with zamba's checkpoint and zamba's pre-processing, on these photos
# (run once outside the suite; raw outputs differed from the converted model's by at most 1.2e-5)
PYTORCH_BEST = {
    ENA24 / "2480.jpg": 0.8908,
    ENA24 / "5899.jpg": 0.4175,
    ENA24 / "9455.jpg": 0.8023,
    HERON: 0.1181,
}


def _text(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _pickle(global_module: str = "torch._utils", global_name: str = "_rebuild_tensor_v2") -> bytes:
    """A checkpoint's pickle written opcode by opcode, as torch.save writes one: an OrderedDict
    holding a 3x2 float tensor stored transposed (stride 1, 3) in storage "0"."""
    od = b"ccollections\nOrderedDict\n)R"
    pid = (
        b"(" + _text("storage") + b"ctorch\nFloatStorage\n" + _text("0") + _text("cpu") + b"K\x06tQ"
    )  # MARK ... TUPLE BINPERSID
    args = b"(" + pid + b"K\x00" + b"K\x03K\x02\x86" + b"K\x01K\x03\x86" + b"\x89" + od + b"t"
    rebuild = f"c{global_module}\n{global_name}\n".encode() + args + b"R"
    return b"\x80\x02" + od + b"(" + _text("w") + rebuild + b"u."


def _checkpoint(path: Path, pickle_bytes: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/data/0", np.arange(6, dtype="<f4").tobytes())
        z.writestr("archive/version", "3\n")
    return path


def test_the_reader_rebuilds_strided_tensors(tmp_path: Path) -> None:
    found = read_checkpoint(_checkpoint(tmp_path / "ok.pth", _pickle()))
    assert list(found) == ["w"]
    assert found["w"].tolist() == [[0, 3], [1, 4], [2, 5]]  # column-major view of 0..5


@pytest.mark.parametrize(
    ("module", "name"), [("os", "system"), ("builtins", "eval"), ("torch.nn", "Module")]
)
def test_the_reader_refuses_anything_but_tensors(tmp_path: Path, module: str, name: str) -> None:
    path = _checkpoint(tmp_path / "bad.pth", _pickle(module, name))
    with pytest.raises(UnsafeCheckpoint, match=f"names {module}.{name}"):
        read_checkpoint(path)


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "zamba-2.7.2-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("zamba/__init__.py", "")
    with pytest.raises(DownloadError, match="not the wheel this Trapline release"):
        checkpoint_from(fake)


def test_a_model_that_does_not_match_its_description_is_refused(
    megadetector_lite: Path, tmp_path: Path
) -> None:
    copy = tmp_path / megadetector_lite.name
    shutil.copy(megadetector_lite.with_suffix(".json"), copy.with_suffix(".json"))
    data = bytearray(megadetector_lite.read_bytes())
    data[-100] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match the checksum"):
        load_detector(copy)


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_scores_are_the_original_pytorch_models(megadetector_lite: Path) -> None:
    detector = load_detector(megadetector_lite)
    assert detector.info.name == NAME
    for path, best in PYTORCH_BEST.items():
        found = detector.detect(rgb(path), path.name)
        assert found and {d.category.value for d in found} == {"1"}
        assert abs(found[0].conf - best) < 2e-3, (path.name, found[0].conf, best)
    detector.close()


def _iou(a: tuple[float, ...], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_it_finds_megadetectors_animals_on_ena24(megadetector_lite: Path) -> None:
    """Measured: 12 of MegaDetector v4.1's 13 animals (conf >= 0.8) at IoU >= 0.5, one extra
    box; YOLOX-Nano found 8. Asserted with one box of slack for other CPUs' rounding."""
    reference = json.loads((DATA / "megadetector-format" / "ena.md.4.1.0.json").read_text())
    animals = {
        Path(im["file"]).name: [
            d["bbox"] for d in im["detections"] if d["category"] == "1" and d["conf"] >= 0.8
        ]
        for im in reference["images"]
    }
    detector = load_detector(megadetector_lite)
    found = extra = total = 0
    for path in sorted(ENA24.glob("*.jpg")):
        boxes = [d.bbox for d in detector.detect(rgb(path), path.name) if d.conf >= 0.25]
        truth = animals[path.name]
        total += len(truth)
        found += sum(1 for t in truth if any(_iou(b, t) >= 0.5 for b in boxes))
        extra += sum(1 for b in boxes if not any(_iou(b, t) >= 0.5 for t in truth))
    detector.close()
    assert total == 13 and found >= 11 and extra <= 2, (found, extra)


def test_results_name_it(megadetector_lite: Path, run_batch_cli) -> None:
    code, out, err, result = run_batch_cli(
        ENA24 / "2480.jpg", ENA24 / "9455.jpg", "--model", megadetector_lite
    )
    assert code == 0, err
    info = result.json()["info"]
    assert info["detector"] == megadetector_lite.name
    meta = info["detector_metadata"]
    assert meta["model_name"] == NAME and meta["typical_detection_threshold"] == 0.25
    assert "zamba's own default confidence" in meta["model_notes"]
    assert f"Model: {NAME} (threshold 0.25)" in out
