"""What the YOLO-family detectors share: the letterbox they are fed, YOLOX's grid decoding, and
turning score rows into Trapline detections (classes mapped to animal/person/vehicle first, then
non-maximum suppression per category, so one deer scored as both "sheep" and "cow" is one box)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from model_server.detectors.base import Category, Detection, clip_bbox

STRIDES = (8, 16, 32)
RAW_FLOOR = 0.01  # rows scoring less are never boxes: the outputs keep 0.005 and up


def letterbox(
    image: np.ndarray,
    size: int,
    *,
    resample: Image.Resampling,
    pad_value: int,
    bgr: bool,
    centred: bool = False,
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The image scaled to fit `size` x `size`, on a `pad_value` canvas at the top left (YOLOX,
    zamba) or in the middle (YOLOv5's letterbox): float32 HWC, the scale, the (x, y) offset."""
    h, w = image.shape[:2]
    r = min(size / w, size / h)
    nw, nh = max(1, round(w * r)), max(1, round(h * r))
    resized = np.asarray(Image.fromarray(image).resize((nw, nh), resample))
    canvas = np.full((size, size, 3), pad_value, dtype=np.float32)
    left, top = ((size - nw) // 2, (size - nh) // 2) if centred else (0, 0)
    canvas[top : top + nh, left : left + nw] = resized[..., ::-1] if bgr else resized
    return canvas, r, (left, top)


@dataclass(frozen=True)
class Letterboxed:
    """A photo made ready for a YOLO-family model (on a loader thread, off the detector's):
    the input tensor, batch of one in the model's layout, and how to map boxes back."""

    tensor: np.ndarray
    scale: float
    offset: tuple[int, int]
    image_size: tuple[int, int]  # the photo's (width, height)


def grids(size: int) -> tuple[np.ndarray, np.ndarray]:
    """YOLOX's grid offsets and strides for every output row, in the model's row order."""
    cells, strides = [], []
    for stride in STRIDES:
        n = size // stride
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full(n * n, stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode_yolox(rows: np.ndarray, cells: np.ndarray, strides: np.ndarray) -> np.ndarray:
    """YOLOX's undecoded `[tx, ty, tw, th]` to centre and size in input pixels."""
    xy = (rows[:, :2] + cells) * strides[:, None]
    wh = np.exp(rows[:, 2:4]) * strides[:, None]
    return np.concatenate([xy, wh], axis=1)


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


def detections(
    centres: np.ndarray,
    class_scores: np.ndarray,
    classes: dict[int, Category],
    *,
    scale: float,
    offset: tuple[int, int],
    image_size: tuple[int, int],
    nms_iou: float,
) -> list[Detection]:
    """`centres` [N, 4] (cx, cy, w, h in input pixels) and `class_scores` [N, C] (objectness x
    class) to detections on the original image of `image_size` (width, height), best first."""
    best = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(best)), best]
    mapped = np.array([k in classes for k in range(class_scores.shape[1])])
    keep = (scores >= RAW_FLOOR) & mapped[best]
    if not keep.any():
        return []
    c, scores, best = centres[keep], scores[keep], best[keep]
    left, top = offset
    corners = (
        np.stack(
            [
                c[:, 0] - c[:, 2] / 2 - left,
                c[:, 1] - c[:, 3] / 2 - top,
                c[:, 0] + c[:, 2] / 2 - left,
                c[:, 1] + c[:, 3] / 2 - top,
            ],
            axis=1,
        )
        / scale
    )
    w, h = image_size
    categories = np.array([classes[int(k)].value for k in best])
    found: list[Detection] = []
    for category in np.unique(categories):
        idx = np.flatnonzero(categories == category)
        for i in (idx[j] for j in nms(corners[idx], scores[idx], nms_iou)):
            x1, y1, x2, y2 = corners[i]
            found.append(
                Detection(
                    Category(str(category)),
                    float(scores[i]),
                    clip_bbox(x1 / w, y1 / h, x2 / w, y2 / h),
                )
            )
    found.sort(key=lambda d: -d.conf)
    return found
