"""Picks the detector implementation for a model file."""

from __future__ import annotations

from pathlib import Path

from model_server.detectors.base import Detector
from shared.errors import ModelLoadError, ModelNotFoundError

MODEL_HELP = (
    "Download one with `trapline-models download md_v4.1` (or `yolox_nano` for the small "
    "COCO stand-in) on a machine with internet, put the file at that path, or point "
    "TRAPLINE_MODEL_PATH / --model at an existing MegaDetector .pb or YOLOX .tflite file."
)


def load_detector(path: Path, *, threads: int = 0, inter_threads: int = 0) -> Detector:
    """Load the model once; the returned detector is meant to live as long as the process.
    `threads` are the runtime's intra-op threads, `inter_threads` its inter-op threads (0: the
    runtime decides; TFLite has only the first)."""
    if not path.is_file():
        raise ModelNotFoundError(f"No detector model at {path}. {MODEL_HELP}")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ModelNotFoundError(
            f"The model file {path} cannot be read ({exc}). {MODEL_HELP}"
        ) from None
    suffix = path.suffix.lower()
    if suffix == ".pb":
        from model_server.detectors.megadetector_onnx import MegaDetectorOnnx, verified_twin
        from model_server.detectors.megadetector_tf import MegaDetectorGraph

        twin = verified_twin(path)  # made by `trapline-models convert`, checked on photos
        if twin is not None:
            return MegaDetectorOnnx(path, twin, threads=threads, inter_threads=inter_threads)
        return MegaDetectorGraph(path, threads=threads, inter_threads=inter_threads)
    if suffix == ".tflite":
        from model_server.detectors.yolox_tflite import YoloxTFLite

        return YoloxTFLite(path, threads=threads)
    if suffix == ".onnx":
        from model_server.detectors.onnx_detector import OnnxDetector

        return OnnxDetector(path, threads=threads, inter_threads=inter_threads)
    raise ModelLoadError(
        f"{path.name}: unsupported model format {suffix!r}; Trapline runs MegaDetector v3/v4 "
        f"TensorFlow frozen graphs (.pb), YOLOX and MegadetectorLite TFLite models (.tflite) "
        f"and YOLOX or MegaDetector v5 ONNX exports (.onnx). {MODEL_HELP}"
    )
