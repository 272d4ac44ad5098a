"""A convolutional frozen graph with MegaDetector's tensor names and MegaDetector-like cost.

MegaDetector v4 is a Faster R-CNN (Inception-ResNet-v2) that resizes every photo internally and
takes seconds per image on a CPU. This stand-in does the same kind of work (resize, a stack of
3x3 convolutions on a large feature map) so the pipeline can be measured around a detector that
is as heavy as the real one, without the real weights. Its boxes mean nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.md_graph import freeze_graph


def _costly(width: int, depth: int, side: int):
    def build(tf: Any, image: Any) -> tuple[Any, Any, Any, Any]:
        x = tf.image.resize(tf.cast(image, tf.float32) / 255.0, [side, side])
        channels = 3
        for i in range(depth):
            stride = 2 if i in (0, 2) else 1
            kernel = tf.Variable(tf.random.normal([3, 3, channels, width], stddev=0.1, seed=i))
            x = tf.nn.relu(tf.nn.conv2d(x, kernel, strides=stride, padding="SAME"))
            channels = width
        pooled = tf.reduce_mean(x, axis=[1, 2])  # [1, width]
        head = tf.Variable(tf.random.normal([width, 4], stddev=0.1, seed=99))
        centre = tf.sigmoid(tf.matmul(pooled, head))[0]  # depends on the pixels, like a real box
        top, left = centre[0] * 0.5, centre[1] * 0.5
        box = tf.stack([top, left, top + 0.3, left + 0.3])
        boxes = tf.reshape(box, [1, 1, 4])
        scores = tf.reshape(tf.sigmoid(tf.reduce_sum(pooled)), [1, 1])
        return boxes, scores, tf.constant([[1.0]]), tf.constant([1.0])

    return build


def build_mdlike_graph(path: Path, *, width: int = 128, depth: int = 10, side: int = 1024) -> Path:
    return freeze_graph(path, _costly(width, depth, side))
