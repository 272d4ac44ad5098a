"""Inference settings side by side: TensorFlow with oneDNN on and off, intra/inter-op threads,
TFLite against onnxruntime on the same YOLOX-Nano weights, and MegadetectorLite's threads. Each
configuration runs `detect()` alone on the same decoded real photos in a fresh process (oneDNN
is chosen before TensorFlow is imported); rounds go through every configuration in turn, so
drift in the machine hits them all. Prints images per second, min / median / max.

    python -m benchmarks.bench_backends --photos 8 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pipeline import MDLITE, PHOTO_DIRS, REPO, YOLOX

YOLOX_ONNX = REPO.parent / "shared" / "models" / "yolox_nano.onnx"
# label, model, oneDNN, intra-op threads, inter-op threads (0: the runtime decides)
CONFIGS = [
    ("MegaDetector-like graph, oneDNN off", "mdlike", "0", 0, 0),
    ("MegaDetector-like graph, oneDNN on", "mdlike", "1", 0, 0),
    ("MegaDetector-like graph, oneDNN on, 2 intra / 1 inter", "mdlike", "1", 2, 1),
    ("MegaDetector-like graph, oneDNN on, 1 intra / 1 inter", "mdlike", "1", 1, 1),
    ("YOLOX-Nano TFLite, TFLite's default threads", "yolox", "1", 0, 0),
    ("YOLOX-Nano TFLite, 1 thread", "yolox", "1", 1, 0),
    ("YOLOX-Nano TFLite, 2 threads", "yolox", "1", 2, 0),
    ("YOLOX-Nano ONNX (onnxruntime), 1 intra", "yolox-onnx", "1", 1, 1),
    ("YOLOX-Nano ONNX (onnxruntime), 2 intra", "yolox-onnx", "1", 2, 1),
    ("MegadetectorLite TFLite, TFLite's default threads", "mdlite", "1", 0, 0),
    ("MegadetectorLite TFLite, 1 thread", "mdlite", "1", 1, 0),
    ("MegadetectorLite TFLite, 2 threads", "mdlite", "1", 2, 0),
]


def child(model: str, photos: int, intra: int, inter: int, folder: Path) -> None:
    import numpy as np
    from PIL import Image

    from model_server.detectors import load_detector
    from model_server.detectors.base import Detector

    detector: Detector
    if model == "mdlike":
        from benchmarks.mdlike_graph import build_mdlike_graph
        from model_server.detectors.megadetector_tf import MegaDetectorGraph

        detector = MegaDetectorGraph(
            build_mdlike_graph(folder / "mdlike.pb"), threads=intra, inter_threads=inter
        )
    elif model == "yolox-onnx":
        from model_server.detectors.onnx_detector import OnnxDetector

        detector = OnnxDetector(YOLOX_ONNX, threads=intra, inter_threads=inter)
    else:
        detector = load_detector(MDLITE if model == "mdlite" else YOLOX, threads=intra)
    paths = sorted(p for d in PHOTO_DIRS for p in d.iterdir() if p.suffix.lower() == ".jpg")
    images = [np.asarray(Image.open(p).convert("RGB")) for p in paths[:photos]]
    detector.detect(images[0], "warm-up")
    start, cpu = time.perf_counter(), time.process_time()
    for image in images:
        detector.detect(image, "")
    rate = len(images) / (time.perf_counter() - start)
    cost = (time.process_time() - cpu) / len(images)  # every thread of the process
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rate": rate, "cpu": cost, "peak": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="run the configurations whose label contains this")
    parser.add_argument(
        "--child", nargs=4, metavar=("MODEL", "PHOTOS", "INTRA", "INTER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        model, photos, intra, inter = args.child
        with tempfile.TemporaryDirectory() as tmp:
            child(model, int(photos), int(intra), int(inter), Path(tmp))
        return
    configs = [c for c in CONFIGS if not args.only or args.only in c[0]]
    rates: dict[str, list[float]] = {c[0]: [] for c in configs}
    costs: dict[str, list[float]] = {c[0]: [] for c in configs}
    peaks: dict[str, list[float]] = {c[0]: [] for c in configs}
    for _ in range(args.repeat):
        for label, model, onednn, intra, inter in configs:
            env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_backends",
                    "--child",
                    model,
                    str(args.photos),
                    str(intra),
                    str(inter),
                ],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            rates[label].append(measured["rate"])
            costs[label].append(measured["cpu"])
            peaks[label].append(measured["peak"])
    print(
        f"{args.photos} real photos, detect() alone, {args.repeat} rounds; images/s and CPU "
        f"seconds per image (every thread) min / median / max, median peak RSS "
        f"({os.cpu_count()} CPUs)"
    )
    for label, values in rates.items():
        cost = costs[label]
        print(
            f"  {label:<56} {min(values):7.3f} {statistics.median(values):7.3f} "
            f"{max(values):7.3f} img/s  {min(cost):6.3f} {statistics.median(cost):6.3f} "
            f"{max(cost):6.3f} CPU s/img  {statistics.median(peaks[label]):5.0f} MB"
        )
    med = {label: statistics.median(v) for label, v in rates.items()}
    pairs = [
        ("MegaDetector-like graph, oneDNN on", "MegaDetector-like graph, oneDNN off"),
        ("YOLOX-Nano ONNX (onnxruntime), 1 intra", "YOLOX-Nano TFLite, 1 thread"),
        ("YOLOX-Nano ONNX (onnxruntime), 2 intra", "YOLOX-Nano TFLite, 2 threads"),
    ]
    for a, b in pairs:
        if a in med and b in med:
            print(f"  ratio {a} / {b}: {med[a] / med[b]:.2f}")


if __name__ == "__main__":
    main()
