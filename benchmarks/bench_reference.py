"""Trapline's full job against the way MegaDetector's reference code runs a v3/v4 frozen graph,
on the same photos and the same graph (the MegaDetector-like graph of `mdlike_graph.py`, since
the real weights cannot be fetched here), measured side by side in one process with the rounds
interleaved.

The reference, as MegaDetector's `TFDetector` runs a frozen graph: a TF1 session with the
default `ConfigProto`, photos opened with PIL and converted to RGB one after another, one image
per `session.run`, boxes kept from 0.005 up. Trapline's rows are the whole job (annotated
copies, Excel, MegaDetector JSON, Camtrap DP, zip) and reports only, with the graph on
TensorFlow and with its ONNX twin (`trapline-models convert`: converted by tf2onnx, checked on
the benchmark's photos, run by onnxruntime), which is what the model server runs once the twin
is there. The reference's own loop is also timed with the twin and with XLA's just-in-time
compilation of the same session (a lever measured, not adopted).

Prints images/s and CPU seconds per image (every thread), min / median / max, the ratios of the
medians to the reference, the peak RSS, and whether Trapline's boxes match the reference's
(confidence within 0.005, box within 0.001).

    python -m benchmarks.bench_reference --images 8 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.bench_pipeline import _spread, make_batch, run_pipeline, timed
from benchmarks.mdlike_graph import build_mdlike_graph
from model_server.detectors.graph_conversion import convert
from model_server.detectors.megadetector_onnx import TwinSession
from model_server.detectors.megadetector_tf import INPUT, OUTPUTS, MegaDetectorGraph

Boxes = dict[str, list[tuple[float, list[float]]]]  # photo name: (conf, [x, y, w, h]) per box


class ReferenceRunner:
    """MegaDetector's way with a frozen graph, written out here as its `TFDetector` does it."""

    def __init__(self, graph: Path, *, xla: bool = False) -> None:
        from model_server.detectors.tf_runtime import import_tensorflow

        tf = import_tensorflow()
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(graph.read_bytes())
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.import_graph_def(graph_def, name="")
        config = tf.compat.v1.ConfigProto()  # the default, as the reference has it
        if xla:  # the lever: XLA's just-in-time compilation of the graph, on the CPU
            jit = tf.compat.v1.OptimizerOptions.ON_1
            config.graph_options.optimizer_options.global_jit_level = jit
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)
        self.feed = self.graph.get_tensor_by_name(INPUT)
        self.fetch = [self.graph.get_tensor_by_name(name) for name in OUTPUTS]

    def run(self, photos: list[Path]) -> Boxes:
        return {p.name: self._boxes(self._one(_pil_rgb(p))) for p in photos}

    def _one(self, pixels: np.ndarray) -> list[np.ndarray]:
        return list(self.session.run(self.fetch, feed_dict={self.feed: pixels[np.newaxis]}))

    @staticmethod
    def _boxes(out: list[np.ndarray]) -> list[tuple[float, list[float]]]:
        boxes, scores = out[0][0], out[1][0]
        kept = []
        for box, score in zip(boxes, scores, strict=True):
            if score > 0.005:
                y1, x1, y2, x2 = (float(v) for v in box)
                kept.append((float(score), [x1, y1, x2 - x1, y2 - y1]))
        return kept

    def close(self) -> None:
        self.session.close()


class TwinReferenceRunner(ReferenceRunner):
    """The reference's loop with the graph's ONNX twin (made by `trapline-models convert`) on
    onnxruntime, as the model server runs it."""

    def __init__(self, twin: Path) -> None:
        self.twin = TwinSession(twin)

    def _one(self, pixels: np.ndarray) -> list[np.ndarray]:
        return self.twin.run(pixels)

    def close(self) -> None:
        self.twin.close()


def _pil_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _trapline_boxes(work: Path) -> Boxes:
    with (work / "reports" / "detections.json").open(encoding="utf-8") as fh:
        images = json.load(fh)["images"]
    return {
        Path(i["file"]).name: [(d["conf"], d["bbox"]) for d in i.get("detections", [])]
        for i in images
    }


def _matches(ours: Boxes, reference: Boxes) -> int:
    """Photos whose boxes all match the reference's: same count, confidence within 0.005, each
    coordinate within 0.001 (MegaDetector's JSON keeps 3 and 4 decimals)."""
    same = 0
    for name, want in reference.items():
        got = ours.get(name, [])
        if len(got) == len(want) and all(
            abs(g[0] - w[0]) <= 0.005 and np.allclose(g[1], w[1], atol=0.001)
            for g, w in zip(sorted(got), sorted(want), strict=True)
        ):
            same += 1
    return same


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, tuple[list[float], list[float]]] = {}
    parity: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="trapline-reference-") as tmp_name:
        tmp = Path(tmp_name)
        photos = make_batch(tmp / "photos", args.images)
        graph = build_mdlike_graph(tmp / "mdlike.pb")
        from model_server.detectors import load_detector

        detector = MegaDetectorGraph(graph)  # on TensorFlow, as before any conversion
        twin = convert(graph, photos, report=lambda line: None)  # checked on these photos
        onnx = load_detector(graph)  # what the model server loads once the twin is there
        reference = ReferenceRunner(graph)
        runners: dict[str, ReferenceRunner] = {
            "reference (TFDetector's way)": reference,
            "reference loop, XLA JIT on the CPU": ReferenceRunner(graph, xla=True),
            "reference loop, the graph's ONNX twin": TwinReferenceRunner(twin),
        }
        for runner in runners.values():  # warm-up (XLA compiles here), as a served model is
            expected = runner.run(photos[:1])
        for served in (detector, onnx):
            served.detect(_pil_rgb(photos[0]), "")
        trapline: dict[str, Callable[[Path], Any]] = {
            "Trapline, full job": partial(run_pipeline, detector, tmp / "photos", copies=True),
            "Trapline, reports only": partial(run_pipeline, detector, tmp / "photos", copies=False),
            "Trapline, full job, ONNX twin": partial(
                run_pipeline, onnx, tmp / "photos", copies=True
            ),
            "Trapline, reports only, ONNX twin": partial(
                run_pipeline, onnx, tmp / "photos", copies=False
            ),
        }
        for i in range(args.repeat):
            for row, runner in runners.items():
                found, wall, cpu = timed(partial(runner.run, photos))
                rows.setdefault(row, ([], []))[0].append(args.images / wall)
                rows[row][1].append(cpu / args.images)
                if row.startswith("reference ("):
                    expected = found
                else:
                    parity[row] = _matches(found, expected)
            for row, run in trapline.items():
                work = tmp / f"work{i}"
                _, wall, cpu = timed(partial(run, work))
                rows.setdefault(row, ([], []))[0].append(args.images / wall)
                rows[row][1].append(cpu / args.images)
                parity[row] = _matches(_trapline_boxes(work), expected)
                shutil.rmtree(work)
        for runner in runners.values():
            runner.close()
        detector.close()
        onnx.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cores = os.cpu_count()
    print(f"MegaDetector-like graph; {args.images} photos; {args.repeat} rounds; {cores} cores")
    base = statistics.median(rows["reference (TFDetector's way)"][0])
    for row, (rate, cost) in rows.items():
        print(f"{row:42} images/s     {_spread(rate)}   x{statistics.median(rate) / base:.2f}")
        print(f"{'':42} CPU s/image  {_spread(cost)}")
    for row, same in parity.items():
        print(f"boxes as the reference's: {row}: {same} of {args.images} photos")
    print(f"peak RSS of the benchmark process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
