"""Camtrap DP truth with event-level observations (issue 33, item 7): which observation types
cover each file's time. A 148 KB package of overlapping events held a web thread 106 s when
every file scanned every event and added every covering row; Trapline now sweeps the events
and the files in time order once. Both are run here on the same packages, every event covering
every file (the worst case), at growing sizes: the time of Trapline's reader (min / median / max
of the repeats), the scan's, their ratio, and the growth from one size to the next (x2 files
and events: about x2 for the sweep, x4 for the scan). The answers are checked equal.

    python -m benchmarks.bench_truth_events --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial

from shared.evaluation.model import TruthSet
from shared.evaluation.truth_files import read_truth_files
from shared.evaluation.truth_formats import _moment


def package(n: int) -> dict[str, bytes]:
    """n files of one deployment a second apart and n events of the whole day."""
    media = "mediaID,deploymentID,timestamp,filePath\n" + "".join(
        f"m{i},d1,2024-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,cam/{i:05d}.jpg\n"
        for i in range(n)
    )
    kinds = ("animal", "human", "vehicle", "Vulpes vulpes")
    observations = (
        "observationID,deploymentID,mediaID,eventStart,eventEnd,observationLevel,observationType\n"
        + "".join(
            f"o{i},d1,,2024-01-01T00:00:00Z,2024-01-01T23:59:59Z,event,{kinds[i % 4]}\n"
            for i in range(n)
        )
    )
    return {"observations.csv": observations.encode(), "media.csv": media.encode()}


def scan(files: dict[str, bytes]) -> dict[str, set[str]]:
    """The reference: every file checks every event (as the reader did before)."""
    events: list[tuple[datetime, datetime, str]] = []
    for line in files["observations.csv"].decode().splitlines()[1:]:
        cells = line.split(",")
        events.append((_moment(cells[3], "x"), _moment(cells[4], "x"), cells[6]))
    found: dict[str, set[str]] = {}
    for line in files["media.csv"].decode().splitlines()[1:]:
        _, _, stamp, path = line.split(",")
        moment = _moment(stamp, "x")
        kinds = [kind for start, end, kind in events if start <= moment <= end]
        found[path] = {
            "animal" if k in ("animal", "Vulpes vulpes") else "person" if k == "human" else k
            for k in kinds
        }
    return found


def timed(action: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    args = parser.parse_args()
    print(
        "files+events   sweep s (min/median/max)      scan s (min/median/max)"
        "       scan/sweep  growth sweep  growth scan"
    )
    before: tuple[float, float] | None = None
    for n in args.sizes:
        files = package(n)
        sweep_times, truth = timed(partial(read_truth_files, files), args.repeat)
        scan_times, reference = timed(partial(scan, files), args.repeat)
        assert isinstance(truth, TruthSet)
        got = {name: set(t.categories) for name, t in truth.items.items()}
        assert got == reference, "the sweep and the scan disagree"
        sweep, scanned = statistics.median(sweep_times), statistics.median(scan_times)
        growth = f"{sweep / before[0]:12.2f}  {scanned / before[1]:11.2f}" if before else ""
        print(
            f"{n:>6} + {n:<6}  {min(sweep_times):.3f} / {sweep:.3f} / {max(sweep_times):.3f}"
            f"{'':8}{min(scan_times):.3f} / {scanned:.3f} / {max(scan_times):.3f}"
            f"{'':6}{scanned / sweep:8.1f}  {growth}"
        )
        before = (sweep, scanned)


if __name__ == "__main__":
    main()
