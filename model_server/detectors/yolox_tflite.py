"""YOLOX models as TFLite: the shared YOLOX-Nano COCO export (a small stand-in) and
MegadetectorLite, a camera-trap animal detector Trapline converts from zamba's checkpoint.

Both take a top-left letterbox of raw 0-255 floats and give YOLOX's undecoded rows
`[1, N, 5 + classes]`; how each is fed (channel order, padding, resampling) and which of its
classes are animals, people or vehicles comes from its spec (`yolox_spec.py`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from model_server.detectors.base import Detection
from model_server.detectors.tflite_runtime import tflite_interpreter
from model_server.detectors.yolo_decode import (
    Letterboxed,
    decode_yolox,
    detections,
    grids,
    letterbox,
)
from model_server.detectors.yolox_spec import spec_for
from shared.errors import ModelLoadError

log = logging.getLogger(__name__)


class YoloxTFLite:
    def __init__(self, path: Path, *, threads: int = 0) -> None:
        self.spec = spec_for(path)
        self.info = self.spec.info
        # TFLite's own default is one thread; the model's spec says what served best
        count = threads or self.spec.default_threads or os.cpu_count() or 1
        try:
            self._interp, runtime = tflite_interpreter(path, count)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{path} is not a usable TFLite model: {exc}") from exc
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        shape = tuple(int(v) for v in inp["shape"])
        if len(shape) != 4 or out["shape"][-1] != 5 + self.spec.class_count:
            raise ModelLoadError(
                f"{path} does not look like a YOLOX model with "
                f"{self.spec.class_count} classes (input {shape}, output "
                f"{tuple(out['shape'])})."
            )
        self._nchw = shape[1] == 3
        self._size = shape[2] if self._nchw else shape[1]
        self.input_size = int(self._size)  # what a photo is scaled to: decoding more is waste
        self._in_index, self._out_index = inp["index"], out["index"]
        self._cells, self._strides = grids(self._size)
        if self._cells.shape[0] != out["shape"][1]:
            raise ModelLoadError(f"{path}: output rows do not match YOLOX strides 8/16/32.")
        log.info("loaded %s from %s on %s", self.info.name, path, runtime)

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        return self.detect_prepared(self.prepare(image))

    def prepare(self, image: np.ndarray) -> Letterboxed:
        spec = self.spec
        canvas, r, offset = letterbox(
            image, self._size, resample=spec.resample, pad_value=spec.pad_value, bgr=spec.bgr
        )
        tensor = canvas.transpose(2, 0, 1) if self._nchw else canvas
        return Letterboxed(
            np.ascontiguousarray(tensor[np.newaxis]), r, offset, (image.shape[1], image.shape[0])
        )

    def detect_prepared(self, prepared: Letterboxed) -> list[Detection]:
        self._interp.set_tensor(self._in_index, prepared.tensor)
        self._interp.invoke()
        out = self._interp.get_tensor(self._out_index)[0]
        centres = decode_yolox(out[:, :4], self._cells, self._strides)
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
        self._interp = None
