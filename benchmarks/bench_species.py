"""What species suggestions cost per animal box: cutting the box, embedding it (YOLOX-Nano neck
features on onnxruntime) and classifying it against a class set, measured side by side in one
run on the real ENA24 and heron boxes, repeated; with the classifier's cost for a large set
(100 classes of 50 examples) beside a small one.

    python -m benchmarks.bench_species --repeat 3 --threads 0
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.bench_pipeline import REPO
from benchmarks.species_truth import ena24
from model_server.species.crops import crop_box
from model_server.species.embedder import load_embedder
from shared.species.classifier import ClassSet

DATA = REPO.parent / "shared" / "data"
EMBEDDER = REPO.parent / "shared" / "models" / "yolox_nano.onnx"


def boxes() -> list[tuple[Image.Image, list[float]]]:
    """The real MegaDetector v4.1 animal boxes on the shared ENA24 frames, with their photos."""
    return [(photo.image, list(photo.bbox)) for photo in ena24()]


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return runs


def line(label: str, runs: list[float], per: int) -> str:
    ms = [r / per * 1000 for r in runs]
    return f"{label:<42} {min(ms):8.2f} {statistics.median(ms):8.2f} {max(ms):8.2f} ms per box"


def classes_of(count: int, examples: int, dim: int, rng: np.random.Generator) -> ClassSet:
    found = ClassSet()
    for i in range(count):
        centre = rng.standard_normal(dim)
        found.add(f"class {i}", centre + 0.3 * rng.standard_normal((examples, dim)))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads")
    parser.add_argument(
        "--embedder",
        type=Path,
        default=EMBEDDER,
        help="a YOLOX ONNX export (default: the shared YOLOX-Nano) or Keras's "
        "MobileNetV3-Large weights (.h5)",
    )
    args = parser.parse_args(argv)
    found = boxes()
    embedder = load_embedder(args.embedder, threads=args.threads)
    crops = [crop_box(image, bbox) for image, bbox in found]
    ready = [c for c in crops if c is not None]
    vectors = embedder.embed(ready)
    rng = np.random.default_rng(1)
    small = ClassSet()
    for i, vector in enumerate(vectors):
        small.add(f"class {i % 5}", vector[None, :])
    large = classes_of(100, 50, vectors.shape[1], rng)
    print(f"embedder: {embedder.name}")
    print(
        f"{len(ready)} real animal boxes (ENA24, MegaDetector v4.1), embedding dimension "
        f"{vectors.shape[1]}, {os.cpu_count()} CPUs, onnxruntime threads {args.threads or 'all'}"
    )
    print(f"{'':<42} {'min':>8} {'median':>8} {'max':>8}")
    n = len(ready)
    cut = timed(lambda: [crop_box(image, bbox) for image, bbox in found], args.repeat)
    embed = timed(lambda: embedder.embed(ready), args.repeat)
    small_runs = timed(lambda: small.classify(vectors), args.repeat)
    large_runs = timed(lambda: large.classify(vectors), args.repeat)
    print(line("cut the box from the decoded photo", cut, n))
    print(line("embed", embed, n))
    print(line("classify, 5 classes", small_runs, n))
    print(line("classify, 100 classes x 50 examples", large_runs, n))
    total = statistics.median(cut) + statistics.median(embed) + statistics.median(large_runs)
    print(
        f"per box in all (median, 100 classes): {total / n * 1000:.2f} ms; embedding is "
        f"{statistics.median(embed) / total:.0%} of it"
    )


if __name__ == "__main__":
    main()
