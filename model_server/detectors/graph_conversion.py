"""`trapline-models convert`: a MegaDetector v3/v4 frozen graph converted once to ONNX by tf2onnx,
kept only when it finds what the graph finds.

Both models run on a check set of the site's own photos. Every box either finds, from just
above the raw floor, must have a box of the same category in the other's answer with a
confidence within 0.005 and each coordinate within 0.001 (the precision MegaDetector's JSON
keeps). Then the twin and a record of the check are written beside the graph, with both files'
checksums; otherwise nothing is written and the graph keeps running on TensorFlow.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from model_server.detectors.base import Detection
from model_server.detectors.download import sha256_of
from model_server.detectors.megadetector_onnx import (
    TwinRecord,
    TwinSession,
    twin_paths,
)
from model_server.detectors.megadetector_tf import (
    INPUT,
    OUTPUTS,
    RAW_FLOOR,
    MegaDetectorGraph,
    graph_detections,
)
from model_server.detectors.tf_runtime import import_tensorflow
from model_server.media.imaging import image_errors, pixels_of, upright_rgb
from shared.errors import ImageError, ModelLoadError
from shared.inputs import IMAGE_SUFFIXES

log = logging.getLogger(__name__)
CONF_TOLERANCE = 0.005
BOX_TOLERANCE = 0.001
MIN_CHECK_PHOTOS = 5
OPSET = 17
# (graph, output file, opset) -> what converted it, e.g. "tf2onnx 1.17.0, opset 17"
Converter = Callable[[Path, Path, int], str]


def tf2onnx_converter(graph: Path, output: Path, opset: int) -> str:
    """The graph converted by tf2onnx, from the package index."""
    try:
        import tf2onnx
    except ImportError as exc:
        raise ModelLoadError(
            "tf2onnx is not installed: it comes with the model server's packages "
            "(pip install 'trapline[model]')"
        ) from exc
    tf = import_tensorflow()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph.read_bytes())
    tf2onnx.convert.from_graph_def(
        graph_def,
        input_names=[INPUT],
        output_names=list(OUTPUTS),
        opset=opset,
        output_path=str(output),
    )
    return f"tf2onnx {tf2onnx.__version__}, opset {opset}"


@dataclass
class Check:
    """Both models' boxes compared, photo by photo."""

    photos: int = 0
    boxes: int = 0
    max_conf_diff: float = 0.0
    max_box_diff: float = 0.0
    problems: list[str] = field(default_factory=list)
    graph_seconds: list[float] = field(default_factory=list)  # per photo, inference only
    twin_seconds: list[float] = field(default_factory=list)

    @staticmethod
    def per_photo(seconds: list[float]) -> float:
        """Mean seconds a photo, the first (a warm-up) left out."""
        timed = seconds[1:] or seconds
        return round(sum(timed) / len(timed), 4)

    def compare(self, photo: str, graph: list[Detection], twin: list[Detection]) -> None:
        self.photos += 1
        for mine, theirs, who in ((graph, twin, "the twin"), (twin, graph, "the graph")):
            for box in mine:
                if box.conf < RAW_FLOOR + CONF_TOLERANCE:  # may fall either side of the floor
                    continue
                match = _closest(box, theirs)
                if match is None:
                    self.problems.append(
                        f"{photo}: {who} has no {box.category.label} box like {_described(box)}"
                    )
                    continue
                conf = abs(match.conf - box.conf)
                coords = max(abs(a - b) for a, b in zip(match.bbox, box.bbox, strict=True))
                if who == "the twin":
                    self.boxes += 1
                    self.max_conf_diff = max(self.max_conf_diff, conf)
                    self.max_box_diff = max(self.max_box_diff, coords)
                if conf > CONF_TOLERANCE or coords > BOX_TOLERANCE:
                    self.problems.append(
                        f"{photo}: {_described(box)} against {_described(match)} in {who}"
                    )


def _closest(box: Detection, others: list[Detection]) -> Detection | None:
    same = [o for o in others if o.category == box.category]
    if not same:
        return None
    return min(
        same,
        key=lambda o: (
            max(abs(a - b) for a, b in zip(o.bbox, box.bbox, strict=True)) / BOX_TOLERANCE
            + abs(o.conf - box.conf) / CONF_TOLERANCE
        ),
    )


def _described(box: Detection) -> str:
    corners = ", ".join(f"{v:.4f}" for v in box.bbox)
    return f"{box.category.label} {box.conf:.4f} at [{corners}]"


def check_photos(folder: Path, limit: int) -> list[Path]:
    """The photos of a check-set folder (searched through), in name order, at most `limit`."""
    found = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    return found[:limit]


def photo_pixels(photo: Path) -> np.ndarray:
    """A check photo as the pipeline decodes it: upright, 8-bit RGB."""
    with image_errors(), Image.open(photo) as image:
        rgb, _ = upright_rgb(image)
        return pixels_of(rgb)


def convert(
    graph: Path,
    photos: Iterable[Path],
    *,
    converter: Converter = tf2onnx_converter,
    opset: int = OPSET,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    report: Callable[[str], None] = log.info,
) -> Path:
    """Converts `graph`, checks the twin on `photos` and keeps it beside the graph; raises
    ModelLoadError, writing nothing, when it cannot be converted or finds other boxes."""
    photos = list(photos)
    if len(photos) < MIN_CHECK_PHOTOS:
        raise ModelLoadError(
            f"the check set has {len(photos)} photos; give at least {MIN_CHECK_PHOTOS} of "
            "your own camera-trap photos (with animals, people or vehicles in some), so that "
            "the converted graph is compared on what it will see"
        )
    onnx_path, record_path = twin_paths(graph)
    part = onnx_path.with_name(onnx_path.name + ".part")
    original = MegaDetectorGraph(graph)
    try:
        report(f"converting {graph.name} to ONNX...")
        try:
            made_by = converter(graph, part, opset)
        except ModelLoadError:
            raise
        except Exception as exc:  # tf2onnx raises whatever the failing op handler raises
            part.unlink(missing_ok=True)
            raise ModelLoadError(
                f"{graph.name} could not be converted to ONNX ({type(exc).__name__}: {exc}); "
                "it keeps running on TensorFlow"
            ) from exc
        check = _run_check(original, part, photos, report)
    finally:
        original.close()
    refused = ""
    if check.problems:
        shown = "; ".join(check.problems[:3])
        refused = f"the converted graph finds other boxes ({len(check.problems)}): {shown}"
    elif check.boxes == 0:
        refused = "no box was found in the check set, so nothing could be compared"
    if refused:
        part.unlink(missing_ok=True)
        raise ModelLoadError(
            f"Refused: {refused}. Nothing was written; {graph.name} keeps running on TensorFlow."
        )
    record = TwinRecord(
        graph_sha256=sha256_of(graph),
        onnx_sha256=sha256_of(part),
        converter=made_by,
        photos=check.photos,
        boxes=check.boxes,
        max_conf_diff=round(check.max_conf_diff, 6),
        max_box_diff=round(check.max_box_diff, 6),
        graph_s_per_photo=check.per_photo(check.graph_seconds),
        twin_s_per_photo=check.per_photo(check.twin_seconds),
        converted_at=now().astimezone(UTC).isoformat(timespec="seconds"),
    )
    os.replace(part, onnx_path)
    staged = record_path.with_name(record_path.name + ".part")
    staged.write_text(record.dumps(), encoding="utf-8")
    os.replace(staged, record_path)
    report(f"{onnx_path.name} kept beside {graph.name}: {record.summary()}.")
    if record.twin_s_per_photo > 1.1 * record.graph_s_per_photo:
        report(
            "On this machine the twin runs a photo slower than TensorFlow does; what it saves is "
            "the start-up and the memory of importing TensorFlow. Delete both "
            f"{onnx_path.name} files to keep the graph on TensorFlow."
        )
    return onnx_path


def _run_check(
    original: MegaDetectorGraph, twin_file: Path, photos: list[Path], report: Callable[[str], None]
) -> Check:
    twin = TwinSession(twin_file)
    check = Check()
    try:
        for photo in photos:
            try:
                pixels = photo_pixels(photo)
            except ImageError as exc:
                report(f"{photo.name} left out of the check: {exc}")
                continue
            start = time.perf_counter()
            from_graph = original.detect(pixels)
            middle = time.perf_counter()
            from_twin = graph_detections(twin.run(pixels), original.info)
            check.graph_seconds.append(middle - start)
            check.twin_seconds.append(time.perf_counter() - middle)
            check.compare(photo.name, from_graph, from_twin)
    finally:
        twin.close()
    if check.photos < MIN_CHECK_PHOTOS:
        twin_file.unlink(missing_ok=True)
        raise ModelLoadError(
            f"only {check.photos} photos of the check set could be read; at least "
            f"{MIN_CHECK_PHOTOS} are needed"
        )
    return check
