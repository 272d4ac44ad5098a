"""What deflating JPEGs in the result zip would cost: the same real photos written into a zip
stored (as Trapline writes JPEGs) and deflated, side by side, repeated; seconds, CPU seconds per
photo and sizes.

    python -m benchmarks.bench_zip --copies 200 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.bench_pipeline import PHOTO_DIRS, _spread


def write(dest: Path, photos: list[Path], copies: int, method: int) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds per photo and the zip's size."""
    start, cpu = time.perf_counter(), time.process_time()
    with zipfile.ZipFile(dest, "w", allowZip64=True) as archive:
        for n in range(copies):
            photo = photos[n % len(photos)]
            archive.write(photo, f"{n:05d}-{photo.name}", compress_type=method)
    per_photo = (time.process_time() - cpu) / copies
    return time.perf_counter() - start, per_photo, dest.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    photos = sorted(p for d in PHOTO_DIRS for p in d.iterdir() if p.suffix.lower() == ".jpg")
    times: dict[str, list[float]] = {"stored": [], "deflated": []}
    costs: dict[str, list[float]] = {"stored": [], "deflated": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, method in (
                ("stored", zipfile.ZIP_STORED),
                ("deflated", zipfile.ZIP_DEFLATED),
            ):
                seconds, cost, size = write(Path(tmp) / f"{name}.zip", photos, args.copies, method)
                times[name].append(seconds)
                costs[name].append(cost * 1000)
                sizes[name] = size
    print(
        f"{args.copies} real JPEGs into a zip, {args.repeat} rounds; seconds min / median / "
        "max, size"
    )
    for name, values in times.items():
        print(
            f"  {name:9} {min(values):6.2f} {statistics.median(values):6.2f} "
            f"{max(values):6.2f}   {sizes[name] / 1e6:8.1f} MB   CPU ms/photo "
            f"{_spread(costs[name])}"
        )
    ratio = statistics.median(times["deflated"]) / statistics.median(times["stored"])
    print(
        f"  deflated / stored: {ratio:.1f}x the time for "
        f"{100 * (1 - sizes['deflated'] / sizes['stored']):.1f} % fewer bytes"
    )


if __name__ == "__main__":
    main()
