"""ONNX models on onnxruntime, behind the same detector interface: YOLOX exports (the shared
`yolox_nano.onnx`: input `[1, 3, S, S]`, output YOLOX's undecoded rows `[1, N, 5 + classes]`) and
MegaDetector v5 exports that users bring (YOLOv5 layout: input `[1, 3, 1280, 1280]` RGB scaled
to 0-1 in a centred letterbox on 114 grey, output decoded rows `[1, N, 4 + 1 + 3]`: centre and
size in input pixels, objectness, then animal, person, vehicle)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from model_server.detectors.base import Category, Detection, ModelInfo
from model_server.detectors.yolo_decode import (
    Letterboxed,
    decode_yolox,
    detections,
    grids,
    letterbox,
)
from model_server.detectors.yolox_spec import YoloxSpec, spec_for
from shared.errors import ModelLoadError

log = logging.getLogger(__name__)
MD_V5_CLASSES = {0: Category.ANIMAL, 1: Category.PERSON, 2: Category.VEHICLE}


def megadetector_v5_spec(path: Path) -> YoloxSpec:
    info = ModelInfo(
        name=f"MegaDetector v5 ({path.stem}, ONNX export)",
        detector_id=path.name,
        version=path.stem,
        typical_threshold=0.2,
        conservative_threshold=0.05,
        is_megadetector=True,
        notes="Thresholds are MegaDetector v5's published typical and conservative values.",
    )
    return YoloxSpec(
        info,
        MD_V5_CLASSES,
        3,
        bgr=False,
        pad_value=114,
        resample=Image.Resampling.BILINEAR,
        pixel_scale=1 / 255,
        centred=True,
    )


def onnx_session(model: Path | bytes, threads: int, inter_threads: int = 0) -> Any:
    """An onnxruntime CPU session on a model file (or a model's bytes)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = inter_threads
    options.log_severity_level = 3
    # idle threads sleep instead of spinning: the pipeline's loaders and writer need the cores
    # between inferences (spinning made YOLOX-Nano's pipeline slower than TFLite's)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            options,
            providers=["CPUExecutionProvider"],
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        what = "the model" if isinstance(model, bytes) else str(model)
        raise ModelLoadError(f"{what} is not a usable ONNX model: {exc}") from exc


class OnnxDetector:
    def __init__(self, path: Path, *, threads: int = 0, inter_threads: int = 0) -> None:
        self._session = onnx_session(path, threads, inter_threads)
        inp, out = self._session.get_inputs()[0], self._session.get_outputs()[0]
        shape, rows = list(inp.shape), list(out.shape)
        if (
            len(shape) != 4
            or shape[1] != 3
            or not all(isinstance(v, int) for v in shape[2:])
            or shape[2] != shape[3]
            or len(rows) != 3
            or not isinstance(rows[1], int)
        ):
            raise ModelLoadError(
                f"{path}: expected a fixed-size input [1, 3, S, S] and an "
                f"output [1, N, columns], got {shape} and {rows}; export the "
                "model with a fixed image size"
            )
        self._size, self._input = int(shape[2]), inp.name
        self.input_size = self._size  # what a photo is scaled to: decoding more is waste
        self._cells, self._strides = grids(self._size)
        self._yolox = rows[1] == self._cells.shape[0]
        self.spec = spec_for(path) if self._yolox else megadetector_v5_spec(path)
        if rows[2] != 5 + self.spec.class_count:
            raise ModelLoadError(
                f"{path}: {rows[2]} output columns; a YOLOX COCO export has "
                f"85 and a MegaDetector v5 export 8"
            )
        self.info = self.spec.info
        if not threads and self.spec.default_threads:  # what served this model best
            self._session = onnx_session(path, self.spec.default_threads, inter_threads)
        log.info("loaded %s from %s (onnxruntime)", self.info.name, path)

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        return self.detect_prepared(self.prepare(image))

    def prepare(self, image: np.ndarray) -> Letterboxed:
        spec = self.spec
        canvas, r, offset = letterbox(
            image,
            self._size,
            resample=spec.resample,
            pad_value=spec.pad_value,
            bgr=spec.bgr,
            centred=spec.centred,
        )
        if spec.pixel_scale != 1.0:
            canvas *= spec.pixel_scale
        tensor = np.ascontiguousarray(canvas.transpose(2, 0, 1)[np.newaxis])
        return Letterboxed(tensor, r, offset, (image.shape[1], image.shape[0]))

    def detect_prepared(self, prepared: Letterboxed) -> list[Detection]:
        out: Any = self._session.run(None, {self._input: prepared.tensor})[0][0]
        centres = (
            decode_yolox(out[:, :4], self._cells, self._strides) if self._yolox else out[:, :4]
        )
        return detections(
            centres,
            out[:, 4:5] * out[:, 5:],
            self.spec.classes,
            scale=prepared.scale,
            offset=prepared.offset,
            image_size=prepared.image_size,
            nms_iou=self.spec.nms_iou,
        )

    def close(self) -> None:
        self._session = None
