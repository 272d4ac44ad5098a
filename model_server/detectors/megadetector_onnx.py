"""A MegaDetector v3/v4 frozen graph's ONNX twin: the same graph converted once by
`trapline-models convert`, checked against the TensorFlow graph on a set of photos, and kept
beside it (`md_v4.1.0.pb.onnx`) with a record of both files' checksums and of the check
(`md_v4.1.0.pb.onnx.json`). The model server runs the twin on onnxruntime, with no TensorFlow
import, only while both checksums still hold; otherwise it says why and runs the graph itself."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from model_server.detectors.base import Detection, ModelInfo
from model_server.detectors.download import sha256_of
from model_server.detectors.megadetector_tf import INPUT, OUTPUTS, graph_detections, model_info_for
from model_server.detectors.onnx_detector import onnx_session
from shared.errors import ModelLoadError

log = logging.getLogger(__name__)


def twin_paths(graph: Path) -> tuple[Path, Path]:
    """Where the ONNX twin of `graph` and its record live: beside the graph."""
    return graph.with_name(graph.name + ".onnx"), graph.with_name(graph.name + ".onnx.json")


@dataclass(frozen=True)
class TwinRecord:
    """What `trapline-models convert` checked, kept beside the twin."""

    graph_sha256: str
    onnx_sha256: str
    converter: str  # e.g. "tf2onnx 1.17.0, opset 17"
    photos: int  # photos of the check set both models ran on
    boxes: int  # boxes compared
    max_conf_diff: float
    max_box_diff: float
    # inference seconds per photo on the machine that converted it (the first photo, a warm-up,
    # left out): the twin is kept for its boxes; these say whether it is faster there
    graph_s_per_photo: float
    twin_s_per_photo: float
    converted_at: str  # ISO 8601, UTC

    def dumps(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> TwinRecord:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})

    def summary(self) -> str:
        return (
            f"checked against the TensorFlow graph on {self.photos} photos: {self.boxes} boxes, "
            f"confidences within {self.max_conf_diff:.5f}, coordinates within "
            f"{self.max_box_diff:.5f}; {self.twin_s_per_photo:.3f} s a photo against the "
            f"graph's {self.graph_s_per_photo:.3f} s on TensorFlow"
        )


def verified_twin(graph: Path) -> tuple[Path, TwinRecord] | None:
    """The twin of `graph` and its record when both checksums hold; None (with a warning in the
    log where a twin is there but cannot be trusted) otherwise."""
    onnx_path, record_path = twin_paths(graph)
    if not record_path.exists():
        return None
    try:
        record = TwinRecord.read(record_path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s is unreadable (%s): running %s on TensorFlow", record_path, exc, graph.name)
        return None
    why = ""
    if not onnx_path.is_file():
        why = f"{onnx_path.name} is missing"
    elif sha256_of(graph) != record.graph_sha256:
        why = f"it was converted from another {graph.name}"
    elif sha256_of(onnx_path) != record.onnx_sha256:
        why = f"{onnx_path.name} changed after it was checked"
    if why:
        log.warning(
            "the ONNX twin of %s is not used: %s. Running the graph on TensorFlow; "
            "`trapline-models convert %s --check PHOTOS` makes a new twin.",
            graph.name,
            why,
            graph,
        )
        return None
    return onnx_path, record


class TwinSession:
    """The converted graph on onnxruntime, taking and giving what the TensorFlow graph does."""

    def __init__(self, onnx_path: Path, *, threads: int = 0, inter_threads: int = 0) -> None:
        self._session: Any = onnx_session(onnx_path, threads, inter_threads)
        inputs = [i.name for i in self._session.get_inputs()]
        outputs = {o.name for o in self._session.get_outputs()}
        missing = [name for name in OUTPUTS if name not in outputs]
        if inputs != [INPUT] or missing:
            raise ModelLoadError(
                f"{onnx_path} does not have the frozen graph's layout (input {INPUT}, outputs "
                f"{', '.join(OUTPUTS)}); it has inputs {inputs} and outputs {sorted(outputs)}"
            )

    def run(self, image: np.ndarray) -> list[np.ndarray]:
        return list(self._session.run(list(OUTPUTS), {INPUT: image[np.newaxis, ...]}))

    def close(self) -> None:
        self._session = None


class MegaDetectorOnnx:
    """A MegaDetector graph run as its verified ONNX twin: the same model, the same name in every
    output, a faster runtime."""

    def __init__(
        self,
        graph: Path,
        twin: tuple[Path, TwinRecord],
        *,
        threads: int = 0,
        inter_threads: int = 0,
    ) -> None:
        onnx_path, record = twin
        info = model_info_for(graph)
        note = f"run on onnxruntime as {onnx_path.name}, {record.summary()}"
        self.info: ModelInfo = replace(info, notes=f"{info.notes} {note}".strip())
        self._twin = TwinSession(onnx_path, threads=threads, inter_threads=inter_threads)
        log.info("loaded %s from %s (onnxruntime; %s)", self.info.name, onnx_path, record.summary())

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        return graph_detections(self._twin.run(image), self.info)

    def close(self) -> None:
        self._twin.close()
