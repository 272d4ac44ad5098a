"""Reading a large COCO Camera Traps truth file (issue 33, item 7): a 1.5 GB truth file had
added 2.9 GB to a web worker. The old reader held the file's bytes, then its text, then the
whole JSON tree, and built the truth from that; Trapline now streams the file (ijson: its keys,
categories, images and annotations, one item at a time), keeping each image's name and size and
the truth itself. Both read the same files here, written to a temporary folder: the peak of
Python's allocations while reading (tracemalloc, measured apart from the time) and the time,
min / median / max of the repeats, and the ratios tree/stream. The answers are checked equal.

    python -m benchmarks.bench_truth_memory --repeat 3 --sizes 16 64
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from shared.evaluation.model import TruthSet
from shared.evaluation.truth_builder import TruthBuilder
from shared.evaluation.truth_files import read_truth_paths

BYTES_PER_IMAGE = 400  # one image entry and its annotation, as written below


def write_coco(path: Path, megabytes: int) -> int:
    """A COCO file of about `megabytes` MB, each image with the optional fields the COCO Camera
    Traps format defines (location, datetime, sequence); half have a deer box, half are empty."""
    n = megabytes * 2**20 // BYTES_PER_IMAGE
    data = {
        "info": {"version": "1.0", "description": "benchmark"},
        "images": [
            {
                "id": f"site{i % 40:02d}/IMG_{i:07d}",
                "file_name": f"site{i % 40:02d}/cam/IMG_{i:07d}.JPG",
                "width": 1920,
                "height": 1080,
                "location": f"site{i % 40:02d}",
                "datetime": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:15:00",
                "seq_id": f"seq{i // 3:07d}",
                "seq_num_frames": 3,
                "frame_num": i % 3,
            }
            for i in range(n)
        ],
        "categories": [{"id": 0, "name": "empty"}, {"id": 1, "name": "White-tailed deer"}],
        "annotations": [
            {
                "id": f"ann{i:07d}",
                "image_id": f"site{i % 40:02d}/IMG_{i:07d}",
                "category_id": i % 2,
                "sequence_level_annotation": False,
            }
            | ({"bbox": [100.0, 200.0, 300.5, 150.25]} if i % 2 else {})
            for i in range(n)
        ],
    }
    path.write_text(json.dumps(data, indent=1))
    return n


def tree(path: Path) -> TruthSet:
    """The reference: the whole file in memory, then its JSON tree (the reader before)."""
    data = json.loads(path.read_bytes().decode("utf-8-sig"))
    images = {img["id"]: img for img in data["images"]}
    names = {cat["id"]: str(cat["name"]) for cat in data["categories"]}
    truth = TruthBuilder("COCO Camera Traps JSON")
    for ann in data["annotations"]:
        image = images[ann["image_id"]]
        box = ann.get("bbox")
        relative = None
        if box:
            w, h = image["width"], image["height"]
            relative = (box[0] / w, box[1] / h, box[2] / w, box[3] / h)
        truth.add(str(image["file_name"]), names[ann["category_id"]], relative)
    return truth.build()


def stream(path: Path) -> TruthSet:
    return read_truth_paths([path])


def measured(
    read: Callable[[Path], TruthSet], path: Path, repeat: int
) -> tuple[list[float], list[float], TruthSet]:
    """Seconds of each repeat, then each repeat's peak MB under tracemalloc."""
    seconds, peaks, result = [], [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = read(path)
        seconds.append(time.perf_counter() - start)
        del result
        tracemalloc.start()
        result = read(path)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    assert result is not None
    return seconds, peaks, result


def spread(values: list[float], fmt: str) -> str:
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64], help="MB of JSON")
    args = parser.parse_args()
    print(
        "file MB  images   peak MB tree (min/med/max)  peak MB stream (min/med/max)  tree/stream"
        "   seconds tree (min/med/max)  seconds stream (min/med/max)  tree/stream"
    )
    with tempfile.TemporaryDirectory(prefix="bench-truth-") as folder:
        for megabytes in args.sizes:
            path = Path(folder) / f"coco-{megabytes}.json"
            n = write_coco(path, megabytes)
            tree_s, tree_mb, reference = measured(tree, path, args.repeat)
            stream_s, stream_mb, truth = measured(stream, path, args.repeat)
            assert truth.items == reference.items, "the two readers disagree"
            mb = statistics.median
            print(
                f"{path.stat().st_size / 2**20:7.1f}  {n:>7,}   {spread(tree_mb, '7.0f'):>26}"
                f"  {spread(stream_mb, '7.0f'):>28}  {mb(tree_mb) / mb(stream_mb):11.2f}"
                f"   {spread(tree_s, '6.2f'):>26}  {spread(stream_s, '6.2f'):>28}"
                f"  {mb(tree_s) / mb(stream_s):11.2f}"
            )
            path.unlink()


if __name__ == "__main__":
    main()
