"""Pipeline speed and memory, printed side by side with the detector alone.

    python -m benchmarks.bench_pipeline speed --detector mdlike --images 24
    python -m benchmarks.bench_pipeline speed --detector yolox --images 200
    python -m benchmarks.bench_pipeline memory --counts 100 2000

`speed` runs the detector alone on pre-decoded photos, then the full pipeline (read, decode,
EXIF, inference, drawing, encoding, report, zip) on the same photos, and prints both rates, their
ratio and where the pipeline's time went. `memory` runs the pipeline in a fresh process per batch
size and prints each peak RSS. Photos are the real ones in ../shared/data, repeated as needed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
YOLOX = REPO.parent / "shared" / "models" / "yolox_nano_float16_quantize.tflite"
PHOTO_DIRS = [DATA / "camtrap-dp" / "example" / "media", DATA / "camera-trap" / "ena24"]


def source_photos() -> list[Path]:
    return sorted(p for d in PHOTO_DIRS for p in d.iterdir() if p.suffix.lower() == ".jpg")


def make_batch(folder: Path, count: int) -> list[Path]:
    """`count` files cycled from the real photos (copies: each one is a separate upload file)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i, src in zip(range(count), itertools.cycle(source_photos())):
        dest = folder / f"{i:05d}_{src.name}"
        shutil.copyfile(src, dest)
        made.append(dest)
    return made


def load_model(kind: str, tmp: Path):
    from model_server.detectors import load_detector

    if kind == "yolox":
        return load_detector(YOLOX)
    from benchmarks.mdlike_graph import build_mdlike_graph

    return load_detector(build_mdlike_graph(tmp / "mdlike.pb"))


def detector_alone(detector, photos: list[Path], count: int) -> float:
    """Images per second of detect() alone, on photos decoded beforehand (decoding not timed)."""
    decoded = {}
    for p in photos[: len(source_photos())]:
        with Image.open(p) as im:
            decoded[p.name.split("_", 1)[1]] = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    arrays = [decoded[p.name.split("_", 1)[1]] for p in photos[:count]]
    detector.detect(arrays[0])  # warm-up, as the pipeline's detector is warm too
    start = time.perf_counter()
    for array in arrays:
        detector.detect(array)
    return len(arrays) / (time.perf_counter() - start)


def run_pipeline(detector, folder: Path, work: Path):
    from model_server.pipeline import PipelineOptions, run_batch
    from shared.inputs import collect_inputs

    start = time.perf_counter()
    result = run_batch(collect_inputs([folder]), detector, work, work.parent / "result.zip",
                       PipelineOptions())
    return result, time.perf_counter() - start


def speed(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="trapline-bench-") as tmp_name:
        tmp = Path(tmp_name)
        photos = make_batch(tmp / "photos", args.images)
        detector = load_model(args.detector, tmp)
        alone = detector_alone(detector, photos, args.images)
        result, seconds = run_pipeline(detector, tmp / "photos", tmp / "work")
    rate = args.images / seconds
    print(f"model: {detector.info.name}")
    print(f"images: {args.images}")
    print(f"detector alone : {alone:8.3f} images/s")
    print(f"full pipeline  : {rate:8.3f} images/s")
    print(f"ratio pipeline/detector: {rate / alone:.3f}")
    print("where the pipeline's time went (seconds summed over threads; calls per stage):")
    for stage in ("read", "exif", "decode", "inference", "drawing", "encoding", "report", "zip"):
        secs, calls = result.clock.seconds[stage], result.clock.calls[stage]
        print(f"  {stage:10} {secs:8.2f} s  {calls:6d} calls  {1000 * secs / args.images:7.1f} ms/image")
    print(f"wall time {seconds:.2f} s; images with errors: {result.tally.errors}")


def one_memory_run(count: int, kind: str) -> None:
    """Child process: one batch, then print peak RSS as JSON."""
    with tempfile.TemporaryDirectory(prefix="trapline-mem-") as tmp_name:
        tmp = Path(tmp_name)
        make_batch(tmp / "photos", count)
        detector = load_model(kind, tmp)
        result, seconds = run_pipeline(detector, tmp / "photos", tmp / "work")
        zip_mb = (tmp / "result.zip").stat().st_size / 1e6
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"images": count, "peak_rss_mb": round(peak_mb, 1), "seconds": round(seconds, 1),
                      "zip_mb": round(zip_mb, 1), "errors": result.tally.errors}))


def memory(args: argparse.Namespace) -> None:
    runs = []
    for count in args.counts:
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_pipeline", "_memory-child",
                              str(count), args.detector], cwd=REPO, check=True,
                             capture_output=True, text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{count:6d} images: peak RSS {runs[-1]['peak_rss_mb']:8.1f} MB "
              f"({runs[-1]['seconds']} s, zip {runs[-1]['zip_mb']} MB)")
    base = runs[0]["peak_rss_mb"]
    for run in runs[1:]:
        print(f"peak RSS {run['images']} vs {runs[0]['images']} images: "
              f"{run['peak_rss_mb'] / base:.3f}x ({run['peak_rss_mb'] - base:+.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--detector", choices=["mdlike", "yolox"], default="mdlike")
    s.add_argument("--images", type=int, default=24)
    m = sub.add_parser("memory")
    m.add_argument("--counts", type=int, nargs="+", default=[100, 2000])
    m.add_argument("--detector", choices=["mdlike", "yolox"], default="yolox")
    child = sub.add_parser("_memory-child")
    child.add_argument("count", type=int)
    child.add_argument("detector")
    args = parser.parse_args()
    if args.command == "speed":
        speed(args)
    elif args.command == "memory":
        memory(args)
    else:
        one_memory_run(args.count, args.detector)


if __name__ == "__main__":
    main()
