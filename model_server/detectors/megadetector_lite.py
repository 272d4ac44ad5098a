"""MegadetectorLite: zamba's one-class YOLOX-tiny (640 px) animal detector, distilled from
MegaDetector, installed from the zamba wheel on the package index without installing zamba or
PyTorch: `pip download` fetches the pinned wheel, its SHA-256 and the checkpoint's are checked,
the checkpoint's weights are read by Trapline's own restricted reader and the network is rebuilt
with TensorFlow ops and saved as a TFLite model beside a description of how to feed it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_server.detectors.torch_checkpoint import read_checkpoint, state_dict
from model_server.detectors.yolox_graph import TINY, build_yolox
from shared.errors import DownloadError

ZAMBA_VERSION = "2.7.2"
WHEEL = f"zamba-{ZAMBA_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "9683e004af3219635937d2a854b4443fe51527e242b2f3602267159a039571c6"
ASSETS = "zamba/object_detection/yolox/assets/"
CHECKPOINT = ASSETS + "yolox_tiny_640_20220528.pth"
CHECKPOINT_SHA256 = "31f8690fc62f9d0756f1e8c09b0b02e5ade106173ed0a30743d47c004f88f4e0"
KWARGS = ASSETS + "yolox_tiny_640_20220528_model_kwargs.json"
FILENAME = "megadetector_lite_yolox_tiny_640.tflite"
IMAGE_SIZE = 640
NAME = "MegadetectorLite (zamba, YOLOX-tiny 640, distilled from MegaDetector)"

# How zamba feeds it (megadetector_lite_yolox.py): Pillow's ImageOps.pad to 640x640 with
# bicubic resampling, the image at the top left, black padding, RGB as 0-255 floats; boxes kept
# at objectness x class score >= 0.25, non-maximum suppression at IoU 0.45.
DESCRIPTION: dict[str, Any] = {
    "format": "trapline-detector/1",
    "name": NAME,
    "kind": "megadetector-lite",
    "classes": ["animal"],
    "input": {
        "size": IMAGE_SIZE,
        "channels": "RGB",
        "pad_value": 0,
        "resample": "bicubic",
        "layout": "NHWC",
    },
    "nms_iou": 0.45,
    # every core: in the pipeline on 2 cores, 7.2 photos/s with two threads against 4.6 with one
    "default_threads": 0,
    "typical_threshold": 0.25,
    "conservative_threshold": 0.1,
    "notes": (
        "One class (animal): people and vehicles are not detected. 0.25 is zamba's own "
        "default confidence; on the shared ENA24 frames it found 12 of MegaDetector "
        "v4.1's 13 animals with 1 extra box, and it scores a night-IR heron at most 0.12 "
        "(see the docs, Sysadmins: Models)."
    ),
    "source": {
        "package": "zamba",
        "version": ZAMBA_VERSION,
        "wheel_sha256": WHEEL_SHA256,
        "checkpoint": CHECKPOINT,
        "checkpoint_sha256": CHECKPOINT_SHA256,
        "license": "MIT",
    },
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(folder: Path, report: Callable[[str], None]) -> Path:
    """The pinned wheel, by pip's own machinery (its index, proxy and certificate settings)."""
    report(
        f"downloading {WHEEL} from the package index (about 41 MB; zamba itself and its "
        "dependencies are not installed)"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"zamba=={ZAMBA_VERSION}",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wheel = folder / WHEEL
    if done.returncode != 0 or not wheel.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise DownloadError(f"pip could not download zamba=={ZAMBA_VERSION}: " + " / ".join(tail))
    return wheel


def checkpoint_from(wheel: Path) -> bytes:
    """The checkpoint inside the wheel, after both checksums match the pinned ones."""
    actual = _sha256(wheel.read_bytes())
    if actual != WHEEL_SHA256:
        raise DownloadError(
            f"{wheel.name} has checksum {actual}, expected {WHEEL_SHA256}: "
            "not the wheel this Trapline release was checked against"
        )
    with zipfile.ZipFile(wheel) as archive:
        checkpoint = archive.read(CHECKPOINT)
        kwargs = json.loads(archive.read(KWARGS))
    if _sha256(checkpoint) != CHECKPOINT_SHA256:
        raise DownloadError(f"the checkpoint in {wheel.name} does not match its pinned checksum")
    if kwargs != {"num_classes": 1, "backbone": "yolox-tiny", "image_size": IMAGE_SIZE}:
        raise DownloadError(f"unexpected model settings in {wheel.name}: {kwargs}")
    return checkpoint


def convert(checkpoint: Path) -> bytes:
    """The checkpoint as a float32 TFLite model: input `[1, 640, 640, 3]`, output
    `[1, 8400, 6]` (YOLOX's undecoded rows)."""
    from model_server.detectors.tf_runtime import import_tensorflow

    tf = import_tensorflow()
    forward = build_yolox(state_dict(read_checkpoint(checkpoint)), TINY, 1, IMAGE_SIZE)
    module = tf.Module()
    module.detect = tf.function(
        forward,
        input_signature=[tf.TensorSpec([1, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name="images")],
    )
    concrete = module.detect.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    return bytes(converter.convert())


def install(
    dest_dir: Path, *, wheel: Path | None = None, report: Callable[[str], None] = print
) -> Path:
    """Installs the model into `dest_dir` (from `wheel` when given, else downloaded) and returns
    the TFLite file's path; its description is written beside it (`.json`)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / FILENAME
    sidecar = dest.with_suffix(".json")
    if dest.is_file() and sidecar.is_file():
        described = json.loads(sidecar.read_text(encoding="utf-8"))
        if described.get("tflite_sha256") == _sha256(dest.read_bytes()):
            _describe(sidecar, described["tflite_sha256"])  # this release's description
            report(f"{dest} is already installed and verified.")
            return dest
    with tempfile.TemporaryDirectory(prefix="trapline-mdlite-") as tmp:
        folder = Path(tmp)
        checkpoint = folder / "checkpoint.pth"
        checkpoint.write_bytes(checkpoint_from(wheel or fetch_wheel(folder, report)))
        report("wheel and checkpoint checksums verified; converting (no PyTorch needed)")
        model = convert(checkpoint)
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(model)
    os.replace(part, dest)
    _describe(sidecar, _sha256(model))
    report(f"{NAME} installed: {dest}")
    return dest


def _describe(sidecar: Path, model_sha256: str) -> None:
    sidecar.write_text(
        json.dumps({**DESCRIPTION, "tflite_sha256": model_sha256}, indent=2) + "\n",
        encoding="utf-8",
    )
