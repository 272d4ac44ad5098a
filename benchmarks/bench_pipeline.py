"""Pipeline speed and memory, measured side by side in one run and repeated.

    python -m benchmarks.bench_pipeline speed --detector mdlike --images 24 --repeat 3
    python -m benchmarks.bench_pipeline speed --detector yolox --images 100 --repeat 3
    python -m benchmarks.bench_pipeline memory --counts 100 2000 5000

`speed` measures three things on the same real photos, each `--repeat` times, and prints
min / median / max images per second:
  - the detector alone, on photos decoded beforehand (decoding not timed);
  - a serial baseline: every stage of the pipeline (read, EXIF, decode, inference, drawing,
    encoding, checkpoint, reports, zip) one after another with no overlap;
  - the pipeline, whose loader threads and writer thread overlap those stages with inference.
It then prints the ratios and where the pipeline's time went in its last run.

`memory` runs the pipeline in a fresh process per batch size and prints each peak RSS and the
growth in bytes per image between sizes. Photos are the real ones in ../shared/data, repeated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, ImageOps

from benchmarks.serial_baseline import run_serial
from model_server.stage_clock import STAGES

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
YOLOX = REPO.parent / "shared" / "models" / "yolox_nano_float16_quantize.tflite"
MDLITE = REPO / "models" / "megadetector_lite_yolox_tiny_640.tflite"
T = TypeVar("T")
PHOTO_DIRS = [DATA / "camtrap-dp" / "example" / "media", DATA / "camera-trap" / "ena24"]


def source_photos() -> list[Path]:
    return sorted(p for d in PHOTO_DIRS for p in d.iterdir() if p.suffix.lower() == ".jpg")


def make_batch(folder: Path, count: int) -> list[Path]:
    """`count` files cycled from the real photos (copies: each one is a separate upload file)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i, src in zip(range(count), itertools.cycle(source_photos()), strict=False):
        dest = folder / f"{i:05d}_{src.name}"
        shutil.copyfile(src, dest)
        made.append(dest)
    return made


class ConstantDetector:
    """One fixed box per photo at no cost: isolates what the pipeline itself holds in memory."""

    def __init__(self) -> None:
        from model_server.detectors.base import Category, Detection, ModelInfo

        self.info = ModelInfo("constant (memory benchmark)", "constant", 0.5, 0.3)
        self._box = [Detection(Category.ANIMAL, 0.9, (0.1, 0.2, 0.3, 0.4))]

    def detect(self, image: np.ndarray, source: str = "") -> list[Any]:
        return list(self._box)

    def close(self) -> None:
        pass


def load_model(kind: str, tmp: Path, threads: int = 0) -> Any:
    from model_server.detectors import load_detector

    if kind == "yolox":
        return load_detector(YOLOX, threads=threads)
    if kind == "yolox-onnx":
        return load_detector(YOLOX.with_name("yolox_nano.onnx"), threads=threads)
    if kind == "mdlite":  # scripts/setup.sh installs it (trapline-models install megadetector-lite)
        return load_detector(MDLITE, threads=threads)
    if kind == "constant":
        return ConstantDetector()
    from benchmarks.mdlike_graph import build_mdlike_graph

    return load_detector(build_mdlike_graph(tmp / "mdlike.pb"))


def detector_alone(detector: Any, photos: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of detect() alone, on photos decoded beforehand (decoding not
    timed)."""
    decoded: dict[str, np.ndarray] = {}
    for p in photos:
        key = p.name.split("_", 1)[1]
        if key not in decoded:
            with Image.open(p) as im:
                upright = ImageOps.exif_transpose(im) or im
                decoded[key] = np.asarray(upright.convert("RGB"))
    arrays = [decoded[p.name.split("_", 1)[1]] for p in photos]
    detector.detect(arrays[0])  # warm-up, as the pipeline's detector is warm too
    return timed(lambda: [detector.detect(array) for array in arrays])[1:]


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """What `work` returns, its wall seconds and the CPU seconds of the whole process meanwhile
    (every thread's: loaders, writer and the runtime's own)."""
    wall, cpu = time.perf_counter(), time.process_time()
    done = work()
    return done, time.perf_counter() - wall, time.process_time() - cpu


class Unprepared:
    """The detector with its input preparation hidden: the pipeline then letterboxes on the
    thread that runs the model, as before the loaders took it."""

    def __init__(self, detector: Any) -> None:
        self.info, self._detector = detector.info, detector

    def detect(self, image: np.ndarray, source: str = "") -> list[Any]:
        return list(self._detector.detect(image, source))

    def close(self) -> None:
        pass


def run_pipeline(detector: Any, folder: Path, work: Path, copies: bool = True) -> Any:
    from model_server.pipeline.batch import run_batch
    from model_server.pipeline.options import PipelineOptions
    from shared.inputs import collect_inputs
    from shared.options import JobOptions

    return run_batch(
        collect_inputs([folder]),
        detector,
        work,
        work.parent / "result.zip",
        PipelineOptions(job=JobOptions(reports_only=not copies)),
    )


def _spread(values: list[float]) -> str:
    return (
        f"min {min(values):8.3f}  median {statistics.median(values):8.3f}  max {max(values):8.3f}"
    )


SPEED_DETECTORS = ("mdlike", "mdlite", "yolox", "yolox-onnx")


def speed(args: argparse.Namespace) -> None:
    if args.detector == "all":
        for kind in SPEED_DETECTORS:
            speed(argparse.Namespace(**{**vars(args), "detector": kind}))
            print()
        return
    # per row: images/s and CPU seconds per image of every repeat
    rows: dict[str, tuple[list[float], list[float]]] = {}

    def record(row: str, wall: float, cpu: float) -> None:
        rate, cost = rows.setdefault(row, ([], []))
        rate.append(args.images / wall)
        cost.append(cpu / args.images)

    with tempfile.TemporaryDirectory(prefix="trapline-bench-") as tmp_name:
        tmp = Path(tmp_name)
        photos = make_batch(tmp / "photos", args.images)
        detector = load_model(args.detector, tmp, args.threads)
        from model_server.detectors.base import PreparingDetector

        ways = {"pipeline": detector}
        if isinstance(detector, PreparingDetector):
            ways["pipeline, letterbox on the model's thread"] = Unprepared(detector)
        for i in range(args.repeat):  # interleaved, so drift in the machine hits every row
            record("detector alone", *detector_alone(detector, photos))
            work = tmp / f"serial{i}"
            zipped = work.parent / f"serial{i}.zip"
            _, wall, cpu = timed(partial(run_serial, detector, tmp / "photos", work, zipped))
            record("serial stages", wall, cpu)
            shutil.rmtree(work, ignore_errors=True)
            for row, way in ways.items():
                work = tmp / f"work{i}"
                copies = not args.reports_only
                done, wall, cpu = timed(partial(run_pipeline, way, tmp / "photos", work, copies))
                record(row, wall, cpu)
                if row == "pipeline":
                    result = done
                shutil.rmtree(work, ignore_errors=True)
        name = detector.info.name
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model: {name}; images: {args.images}; repeats: {args.repeat}")
    for row, (rate, cost) in rows.items():
        print(f"{row:42} images/s     {_spread(rate)}")
        print(f"{'':42} CPU s/image  {_spread(cost)}")
    med = statistics.median
    piped, alone = med(rows["pipeline"][0]), med(rows["detector alone"][0])
    print(f"ratio pipeline/detector (medians): {piped / alone:.3f}")
    print(f"ratio pipeline/serial   (medians): {piped / med(rows['serial stages'][0]):.3f}")
    if len(ways) > 1:
        before = med(rows["pipeline, letterbox on the model's thread"][0])
        print(
            f"ratio letterbox on the loaders / on the model's thread (medians): "
            f"{piped / before:.3f}"
        )
    cores = os.cpu_count() or 1
    print(f"pipeline images/s per core ({cores} cores, median): {piped / cores:.3f}")
    print(f"peak RSS of the whole benchmark process: {peak:.0f} MB")
    print("where the pipeline's time went in its last run (seconds summed over threads):")
    for stage in STAGES:
        secs, calls = result.clock.seconds[stage], result.clock.calls[stage]
        per_image = 1000 * secs / args.images
        print(f"  {stage:10} {secs:8.2f} s  {calls:6d} calls  {per_image:7.1f} ms/image")
    print(f"images with errors: {result.tally.errors}")


def one_memory_run(count: int, kind: str) -> None:
    """Child process: one batch, then print its peaks as JSON. Peak RSS includes transient
    decode buffers and the allocator's own slack, which vary by tens of MB from run to run; the
    peak of Python's traced heap (objects, numpy arrays) is what the pipeline holds per image."""
    with tempfile.TemporaryDirectory(prefix="trapline-mem-") as tmp_name:
        tmp = Path(tmp_name)
        make_batch(tmp / "photos", count)
        detector = load_model(kind, tmp)
        tracemalloc.start()
        result, seconds, _ = timed(lambda: run_pipeline(detector, tmp / "photos", tmp / "work"))
        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        zip_mb = (tmp / "result.zip").stat().st_size / 1e6
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "images": count,
                "peak_rss_mb": round(peak_mb, 2),
                "heap_peak_mb": round(heap_peak / 2**20, 3),
                "seconds": round(seconds, 1),
                "zip_mb": round(zip_mb, 1),
                "errors": result.tally.errors,
            }
        )
    )


def memory(args: argparse.Namespace) -> None:
    """Each size `--repeat` times in fresh processes, interleaved; slopes from the medians."""
    by_count: dict[int, list[dict[str, Any]]] = {count: [] for count in args.counts}
    for _ in range(args.repeat):
        for count in args.counts:
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_pipeline",
                    "_memory-child",
                    str(count),
                    args.detector,
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
                text=True,
            )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            by_count[count].append(run)
            print(
                f"{count:6d} images: peak RSS {run['peak_rss_mb']:8.1f} MB, peak Python heap "
                f"{run['heap_peak_mb']:8.2f} MB ({run['seconds']} s, zip {run['zip_mb']} MB, "
                f"errors {run['errors']})"
            )
    runs = []
    for count, done in by_count.items():
        rss = [r["peak_rss_mb"] for r in done]
        heap = [r["heap_peak_mb"] for r in done]
        runs.append(
            {
                "images": count,
                "peak_rss_mb": statistics.median(rss),
                "heap_peak_mb": statistics.median(heap),
            }
        )
        print(
            f"{count:6d} images, {len(done)} runs: peak RSS MB {_spread(rss)}; "
            f"Python heap MB {_spread(heap)}"
        )

    def slope(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
        return (b[key] - a[key]) * 2**20 / (b["images"] - a["images"])

    pairs = [*itertools.pairwise(runs)]
    if len(runs) > 2:
        pairs.append((runs[0], runs[-1]))
    for a, b in pairs:
        print(
            f"growth {a['images']} -> {b['images']} images: Python heap "
            f"{slope(a, b, 'heap_peak_mb'):+.0f} bytes/image, peak RSS "
            f"{slope(a, b, 'peak_rss_mb'):+.0f} bytes/image (target: under 1024)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument(
        "--detector",
        choices=[*SPEED_DETECTORS, "all"],
        default="mdlike",
        help="`all` runs each in turn",
    )
    s.add_argument("--images", type=int, default=24)
    s.add_argument(
        "--reports-only",
        action="store_true",
        help="the pipeline without annotated copies (JPEGs decoded at model size)",
    )
    s.add_argument(
        "--threads",
        type=int,
        default=0,
        help="the detector's intra-op threads (0: Trapline's default)",
    )
    s.add_argument("--repeat", type=int, default=3)
    m = sub.add_parser("memory")
    m.add_argument("--counts", type=int, nargs="+", default=[100, 2000, 5000])
    m.add_argument(
        "--detector", choices=["constant", "mdlike", "mdlite", "yolox"], default="constant"
    )
    m.add_argument("--repeat", type=int, default=3)
    child = sub.add_parser("_memory-child")
    child.add_argument("count", type=int)
    child.add_argument("detector")
    args = parser.parse_args()
    print(f"# {datetime.now():%Y-%m-%d %H:%M} {sys.executable}")
    if args.command == "speed":
        speed(args)
    elif args.command == "memory":
        memory(args)
    else:
        one_memory_run(args.count, args.detector)


if __name__ == "__main__":
    main()
