"""Peak memory of the pipeline on a small zip of huge photos, with the decoded-pixel budget and
without it (a budget larger than the whole batch behaves as the pipeline did before it).

    python -m benchmarks.bench_hostile --photos 8 --megapixels 88 --repeat 2

Each run is a fresh process; the photos are flat PNGs made here, so the zip is tiny while every
photo decodes to hundreds of megabytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from PIL import Image

from benchmarks.bench_pipeline import REPO, ConstantDetector, _spread, timed

UNLIMITED = 10**12


def make_zip(path: Path, photos: int, megapixels: float) -> None:
    side = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    size = (side, side * 3 // 4)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(photos):
            image = Image.new("RGB", size, (90 + i, 110, 90))
            image.paste((255, 0, 0), (100, 100, 900, 700))
            with archive.open(f"huge{i}.png", "w") as fh:
                image.save(fh, "PNG")


def child(zip_path: Path, budget: int) -> None:
    from model_server.pipeline.batch import run_batch
    from model_server.pipeline.options import PipelineOptions
    from shared.inputs import collect_inputs

    with tempfile.TemporaryDirectory(prefix="trapline-hostile-") as tmp:
        result, wall, cpu = timed(
            lambda: run_batch(
                collect_inputs([zip_path]),
                ConstantDetector(),
                Path(tmp) / "work",
                Path(tmp) / "r.zip",
                PipelineOptions(max_pixels_in_flight=budget),
            )
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "peak_rss_mb": round(peak, 1),
                "images": result.tally.images,
                "errors": result.tally.errors,
                "wall_s": round(wall, 2),
                "cpu_s_per_image": round(cpu / max(result.tally.images, 1), 3),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--megapixels", type=float, default=88.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--budget", type=int, default=150_000_000)
    parser.add_argument("--child", nargs=2, metavar=("ZIP", "BUDGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="trapline-hostile-") as tmp:
        zip_path = Path(tmp) / "huge.zip"
        make_zip(zip_path, args.photos, args.megapixels)
        print(
            f"zip: {zip_path.stat().st_size / 1024:.0f} KB, {args.photos} photos of "
            f"{args.megapixels:g} megapixels"
        )
        peaks: dict[str, list[float]] = {"with budget": [], "without budget": []}
        costs: dict[str, list[float]] = {label: [] for label in peaks}
        for _ in range(args.repeat):
            for label, budget in (("with budget", args.budget), ("without budget", UNLIMITED)):
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.bench_hostile",
                        "--child",
                        str(zip_path),
                        str(budget),
                    ],
                    cwd=REPO,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                run = json.loads(out.stdout.strip().splitlines()[-1])
                peaks[label].append(run["peak_rss_mb"])
                costs[label].append(run["cpu_s_per_image"])
                print(
                    f"{label:15}: peak RSS {run['peak_rss_mb']:8.1f} MB, {run['wall_s']:.2f} s, "
                    f"CPU {run['cpu_s_per_image']:.3f} s/image "
                    f"({run['images']} images, {run['errors']} errors)"
                )
    for label, values in peaks.items():
        print(
            f"{label:15}: min {min(values):8.1f}  median {statistics.median(values):8.1f}  "
            f"max {max(values):8.1f} MB;  CPU s/image {_spread(costs[label])}"
        )
    ratio = statistics.median(peaks["without budget"]) / statistics.median(peaks["with budget"])
    print(f"ratio without/with (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
