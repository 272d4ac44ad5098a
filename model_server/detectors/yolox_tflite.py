"""YOLOX models as TFLite: the shared YOLOX-Nano COCO export (a small stand-in) and
MegadetectorLite, a camera-trap animal detector Trapline converts from zamba's checkpoint.

Both take a top-left letterbox of raw 0-255 floats and give YOLOX's undecoded rows
`[1, N, 5 + classes]`; how each is fed (channel order, padding, resampling) and which of its
classes are animals, people or vehicles comes from its spec (`yolox_spec.py`).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np

from model_server.detectors.base import Detection
from model_server.detectors.tf_runtime import import_tensorflow
from model_server.detectors.yolo_decode import decode_yolox, detections, grids, letterbox
from model_server.detectors.yolox_spec import spec_for
from shared.errors import ModelLoadError

log = logging.getLogger(__name__)


class YoloxTFLite:
    def __init__(self, path: Path, *, threads: int = 0) -> None:
        tf = import_tensorflow()
        self.spec = spec_for(path)
        self.info = self.spec.info
        with warnings.catch_warnings():
            # tf.lite.Interpreter announces its move to ai_edge_litert; it still works in 2.21.
            warnings.simplefilter("ignore")
            try:
                # TFLite's own default is one thread; the model's spec says what served best
                count = threads or self.spec.default_threads or os.cpu_count() or 1
                self._interp = tf.lite.Interpreter(model_path=str(path), num_threads=count)
                self._interp.allocate_tensors()
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
        log.info("loaded %s from %s", self.info.name, path)

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        spec = self.spec
        canvas, r, offset = letterbox(
            image, self._size, resample=spec.resample, pad_value=spec.pad_value, bgr=spec.bgr
        )
        tensor = canvas.transpose(2, 0, 1) if self._nchw else canvas
        self._interp.set_tensor(self._in_index, np.ascontiguousarray(tensor[np.newaxis]))
        self._interp.invoke()
        out = self._interp.get_tensor(self._out_index)[0]
        centres = decode_yolox(out[:, :4], self._cells, self._strides)
        return detections(
            centres,
            out[:, 4:5] * out[:, 5:],
            spec.classes,
            scale=r,
            offset=offset,
            image_size=(image.shape[1], image.shape[0]),
            nms_iou=spec.nms_iou,
        )

    def close(self) -> None:
        self._interp = None
