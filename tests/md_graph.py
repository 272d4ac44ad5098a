"""Frozen TensorFlow graphs with MegaDetector's exact tensor names, built where they are needed.

The test graph "detects" pure-red pixels: its animal box is the red patch's bounding box, so a
test can place an animal and check the box lands on it, through the real loading and inference
code. It also always reports a person (0.5) and a vehicle (0.1) at fixed places.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_server.detectors.tf_runtime import import_tensorflow

OUTPUT_NAMES = ["detection_boxes", "detection_scores", "detection_classes", "num_detections"]
PERSON_BOX = (0.05, 0.05, 0.25, 0.20)  # ymin, xmin, ymax, xmax as the graph emits it
VEHICLE_BOX = (0.70, 0.70, 0.95, 0.95)


def freeze_graph(path: Path, build: Callable[[Any, Any], tuple[Any, Any, Any, Any]]) -> Path:
    """Builds with `build(tf, image)` -> (boxes, scores, classes, num), freezes variables,
    writes .pb."""
    tf = import_tensorflow()
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [1, None, None, 3], name="image_tensor")
        boxes, scores, classes, num = build(tf, image)
        tf.identity(boxes, name="detection_boxes")
        tf.identity(scores, name="detection_scores")
        tf.identity(classes, name="detection_classes")
        tf.identity(num, name="num_detections")
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), OUTPUT_NAMES
            )
    path.write_bytes(frozen.SerializeToString())
    return path


def _red_patch(tf: Any, image: Any) -> tuple[Any, Any, Any, Any]:
    pixels = tf.cast(image[0], tf.int32)
    mask = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    where = tf.cast(tf.where(mask), tf.float32)
    height = tf.cast(tf.shape(pixels)[0], tf.float32)
    width = tf.cast(tf.shape(pixels)[1], tf.float32)
    found = tf.shape(where)[0] > 0
    # Both branches are evaluated; min/max of an empty set are +-inf and are then discarded.
    lo = tf.where(found, tf.reduce_min(where, axis=0), tf.zeros([2]))
    hi = tf.where(found, tf.reduce_max(where, axis=0) + 1.0, tf.zeros([2]))
    animal = tf.stack([lo[0] / height, lo[1] / width, hi[0] / height, hi[1] / width])
    # A variable, so the freezing step really converts something, as for a trained model.
    fixed = tf.Variable([PERSON_BOX, VEHICLE_BOX], dtype=tf.float32, name="fixed_boxes")
    boxes = tf.expand_dims(tf.concat([animal[tf.newaxis], fixed], axis=0), 0)
    scores = tf.expand_dims(tf.stack([tf.where(found, 0.95, 0.0), 0.5, 0.1]), 0)
    classes = tf.constant([[1.0, 2.0, 3.0]])
    num = tf.constant([3.0])
    return boxes, scores, classes, num


def build_red_patch_graph(path: Path) -> Path:
    return freeze_graph(path, _red_patch)
