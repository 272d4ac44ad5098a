"""MegaDetector v3/v4 as a TensorFlow frozen graph, run in one long-lived session."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model_server.detectors.base import Category, Detection, ModelInfo, clip_bbox
from model_server.detectors.tf_runtime import import_tensorflow
from shared.errors import ModelLoadError

log = logging.getLogger(__name__)

INPUT = "image_tensor:0"
OUTPUTS = ("detection_boxes:0", "detection_scores:0", "detection_classes:0", "num_detections:0")
# The frozen graph returns boxes down to very low scores; this is the floor MegaDetector's own
# batch runner keeps, so a reused JSON and a fresh run agree.
RAW_FLOOR = 0.005

# Thresholds as MegaDetector documents them for v2-v4 (typical 0.8, conservative 0.3).
KNOWN_VERSIONS: dict[str, ModelInfo] = {
    "md_v4.1.0.pb": ModelInfo(
        name="MegaDetector v4.1.0",
        detector_id="md_v4.1.0.pb",
        version="v4.1.0",
        typical_threshold=0.8,
        conservative_threshold=0.3,
        is_megadetector=True,
    ),
    "megadetector_v3.pb": ModelInfo(
        name="MegaDetector v3",
        detector_id="megadetector_v3.pb",
        version="v3",
        typical_threshold=0.8,
        conservative_threshold=0.3,
        is_megadetector=True,
        categories=(Category.ANIMAL, Category.PERSON),
    ),
}


def graph_detections(outputs: Sequence[np.ndarray], info: ModelInfo) -> list[Detection]:
    """The boxes of one image from the graph's four outputs (in `OUTPUTS` order), down to
    `RAW_FLOOR`, of the categories the release detects."""
    boxes, scores, classes, count = outputs
    allowed = {c.value for c in info.categories}
    found: list[Detection] = []
    for i in range(int(count[0])):
        score = float(scores[0, i])
        category = str(int(classes[0, i]))
        if score < RAW_FLOOR or category not in allowed:
            continue
        y1, x1, y2, x2 = (float(v) for v in boxes[0, i])
        found.append(Detection(Category(category), score, clip_bbox(x1, y1, x2, y2)))
    return found


def model_info_for(path: Path) -> ModelInfo:
    """Known MegaDetector releases by file name; anything else is named for what it is."""
    known = KNOWN_VERSIONS.get(path.name.lower())
    if known is not None:
        return known
    return ModelInfo(
        name=f"TensorFlow frozen graph {path.name} (MegaDetector tensor names, unknown release)",
        detector_id=path.name,
        typical_threshold=0.8,
        conservative_threshold=0.3,
    )


class MegaDetectorGraph:
    """Loads the GraphDef once and keeps one session; `detect` is safe to call from one thread."""

    def __init__(self, path: Path, *, threads: int = 0, inter_threads: int = 0) -> None:
        tf = import_tensorflow()
        self.info = model_info_for(path)
        graph_def = tf.compat.v1.GraphDef()
        try:
            with tf.io.gfile.GFile(str(path), "rb") as fh:
                graph_def.ParseFromString(fh.read())
        except Exception as exc:  # protobuf raises its own DecodeError
            raise ModelLoadError(f"{path} is not a TensorFlow frozen graph: {exc}") from exc
        self._graph = tf.Graph()
        with self._graph.as_default():
            try:
                tf.import_graph_def(graph_def, name="")
            except Exception as exc:
                raise ModelLoadError(f"{path} could not be imported: {exc}") from exc
        names = {op.name for op in self._graph.get_operations()}
        missing = [t.split(":")[0] for t in (INPUT, *OUTPUTS) if t.split(":")[0] not in names]
        if missing:
            raise ModelLoadError(
                f"{path} is not a MegaDetector graph: tensors {', '.join(missing)} are missing."
            )
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=inter_threads
        )
        self._session = tf.compat.v1.Session(graph=self._graph, config=config)
        self._input = self._graph.get_tensor_by_name(INPUT)
        self._outputs = [self._graph.get_tensor_by_name(name) for name in OUTPUTS]
        log.info("loaded %s from %s", self.info.name, path)

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        outputs = self._session.run(self._outputs, feed_dict={self._input: image[np.newaxis, ...]})
        return graph_detections(outputs, self.info)

    def close(self) -> None:
        self._session.close()
