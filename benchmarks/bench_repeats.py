"""What grouping one location's boxes into repeats costs (issue 29: 100,000 boxes at one
location in under 10 s): time and peak memory for 10,000 and 100,000 boxes, repeated, with the
same leader clustering without the grid index (each box against every group) measured beside it
at the sizes where that finishes, and the ratio of the two.

The boxes are a hard case for an index: a season at one camera, 60 % of them on 25 fixed spots
(a branch, a post, with a little jitter) and 40 % animals anywhere, of every size, so most
animal boxes start a group of their own and the number of groups grows with the boxes.

    python -m benchmarks.bench_repeats --sizes 10000 100000 --repeat 3 --scan-up-to 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from shared.repeats.grouping import Box, RepeatRules, group_boxes

START = datetime(2024, 5, 1)


def season(n: int, jitter: float, seed: int = 1) -> list[Box]:
    """`n` boxes; a fixed spot's boxes move by `jitter` of the spot's size (standard deviation)."""
    rng = random.Random(seed)
    spots = [
        (
            rng.uniform(0, 0.85),
            rng.uniform(0, 0.85),
            rng.uniform(0.02, 0.15),
            rng.uniform(0.02, 0.15),
        )
        for _ in range(25)
    ]
    found = []
    for i in range(n):
        if rng.random() < 0.6:
            x, y, w, h = rng.choice(spots)
            bbox = (x + rng.gauss(0, jitter * w), y + rng.gauss(0, jitter * h), w, h)
        else:
            w, h = rng.uniform(0.01, 0.45), rng.uniform(0.01, 0.45)
            bbox = (rng.uniform(0, 1 - w), rng.uniform(0, 1 - h), w, h)
        when = START + timedelta(minutes=i * 3)
        found.append(Box(i, i, "animal", bbox, when, f"e{i // 4}"))
    return found


def measure(work: Callable[[], object], repeat: int) -> tuple[list[float], float]:
    """Seconds of each run, and the peak of memory allocated by one run (MB)."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return runs, peak


def spread(runs: list[float]) -> str:
    return f"{min(runs):.3f} / {statistics.median(runs):.3f} / {max(runs):.3f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.02,
        help="how far a fixed spot's boxes move, as a share of its size (standard deviation)",
    )
    parser.add_argument(
        "--scan-up-to", type=int, default=10_000, help="largest size also run without the index"
    )
    args = parser.parse_args(argv)
    rules = RepeatRules()
    print(
        "boxes | groups | suspected | grid index min / median / max | peak MB | full scan | ratio"
    )
    for n in args.sizes:
        boxes = season(n, args.jitter)
        groups = group_boxes(boxes, rules)
        suspected = sum(g.suspected(rules, n) for g in groups)
        runs, peak = measure(partial(group_boxes, boxes, rules), args.repeat)
        scan = ratio = "-"
        if n <= args.scan_up_to:
            scans, _ = measure(partial(group_boxes, boxes, rules, indexed=False), args.repeat)
            scan = spread(scans)
            ratio = f"{statistics.median(scans) / statistics.median(runs):.1f} x"
        found = f"{n:,} | {len(groups):,} | {suspected}"
        print(f"{found} | {spread(runs)} | {peak:.1f} | {scan} | {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
