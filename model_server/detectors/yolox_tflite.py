"""YOLOX models as TFLite: the shared YOLOX-Nano COCO export (a small stand-in) and
MegadetectorLite, a camera-trap animal detector Trapline converts from zamba's checkpoint.

Both take a top-left letterbox of raw 0-255 floats and give YOLOX's undecoded rows
`[1, N, 5 + classes]`; how each is fed (channel order, padding, resampling) and which of its
classes are animals, people or vehicles comes from its spec (`yolox_spec.py`).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from model_server.detectors.base import Category, Detection, clip_bbox
from model_server.detectors.tf_runtime import import_tensorflow
from model_server.detectors.yolox_spec import spec_for
from shared.errors import ModelLoadError

log = logging.getLogger(__name__)

STRIDES = (8, 16, 32)
RAW_FLOOR = 0.01

def _grids(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid offsets and strides for every output row, in the model's row order."""
    cells, strides = [], []
    for stride in STRIDES:
        n = size // stride
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full(n * n, stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression on corner boxes; keeps indices in score order."""
    order = np.argsort(-scores)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
        union = area(boxes[i]) + area(boxes[rest]) - inter
        order = rest[inter / np.maximum(union, 1e-9) <= iou]
    return keep


class YoloxTFLite:
    def __init__(self, path: Path, *, threads: int = 0) -> None:
        tf = import_tensorflow()
        self.spec = spec_for(path)
        self.info = self.spec.info
        with warnings.catch_warnings():
            # tf.lite.Interpreter announces its move to ai_edge_litert; it still works in 2.21.
            warnings.simplefilter("ignore")
            try:
                self._interp = tf.lite.Interpreter(
                    model_path=str(path), num_threads=threads or None
                )
                self._interp.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise ModelLoadError(f"{path} is not a usable TFLite model: {exc}") from exc
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        shape = tuple(int(v) for v in inp["shape"])
        if len(shape) != 4 or out["shape"][-1] != 5 + self.spec.class_count:
            raise ModelLoadError(f"{path} does not look like a YOLOX model with "
                                 f"{self.spec.class_count} classes (input {shape}, output "
                                 f"{tuple(out['shape'])}).")
        self._nchw = shape[1] == 3
        self._size = shape[2] if self._nchw else shape[1]
        self._in_index, self._out_index = inp["index"], out["index"]
        self._cells, self._strides = _grids(self._size)
        if self._cells.shape[0] != out["shape"][1]:
            raise ModelLoadError(f"{path}: output rows do not match YOLOX strides 8/16/32.")
        log.info("loaded %s from %s", self.info.name, path)

    def _prepare(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = image.shape[:2]
        r = min(self._size / w, self._size / h)
        nw, nh = max(1, round(w * r)), max(1, round(h * r))
        resized = np.asarray(Image.fromarray(image).resize((nw, nh), self.spec.resample))
        canvas = np.full((self._size, self._size, 3), self.spec.pad_value, dtype=np.float32)
        canvas[:nh, :nw] = resized[..., ::-1] if self.spec.bgr else resized
        tensor = canvas.transpose(2, 0, 1) if self._nchw else canvas
        return np.ascontiguousarray(tensor[np.newaxis]), r

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        tensor, r = self._prepare(image)
        self._interp.set_tensor(self._in_index, tensor)
        self._interp.invoke()
        out = self._interp.get_tensor(self._out_index)[0]
        scores_all = out[:, 4:5] * out[:, 5:]
        classes = scores_all.argmax(axis=1)
        scores = scores_all[np.arange(len(classes)), classes]
        classes_map = self.spec.classes
        mapped = np.array([k in classes_map for k in range(scores_all.shape[1])])
        mask = (scores >= RAW_FLOOR) & mapped[classes]
        if not mask.any():
            return []
        rows, scores, classes = out[mask], scores[mask], classes[mask]
        cx = (rows[:, 0] + self._cells[mask, 0]) * self._strides[mask]
        cy = (rows[:, 1] + self._cells[mask, 1]) * self._strides[mask]
        bw = np.exp(rows[:, 2]) * self._strides[mask]
        bh = np.exp(rows[:, 3]) * self._strides[mask]
        corners = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1) / r
        h, w = image.shape[:2]
        # Non-maximum suppression per Trapline category, after the model's classes are mapped:
        # a deer scored as both "sheep" and "cow" is one animal, not two boxes on one animal.
        categories = np.array([classes_map[int(k)].value for k in classes])
        found: list[Detection] = []
        for category in np.unique(categories):
            idx = np.flatnonzero(categories == category)
            for i in (idx[j] for j in nms(corners[idx], scores[idx], self.spec.nms_iou)):
                x1, y1, x2, y2 = corners[i]
                bbox = clip_bbox(x1 / w, y1 / h, x2 / w, y2 / h)
                found.append(Detection(Category(str(category)), float(scores[i]), bbox))
        found.sort(key=lambda d: -d.conf)
        return found

    def close(self) -> None:
        self._interp = None
