"""What the Camtrap DP package adds to a job's export: writing it (media, observations,
deployments, datapackage.json) and validating it offline with frictionless, for a card of N
photos with boxes, side by side with the export's other tables in one run, repeated.

    python -m benchmarks.bench_camtrap --photos 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.bench_pipeline import REPO
from model_server.outputs.camtrap_dp.package import CamtrapWriter, validated
from model_server.outputs.event_tables import EventTables
from shared.events.model import Item
from shared.store.records import MediaRecord

SCHEMAS = REPO.parent / "shared" / "data" / "camtrap-dp"


def card(photos: int) -> list[MediaRecord]:
    """Ten cameras, bursts of three photos a minute apart, half of them with one or two boxes."""
    rng = random.Random(1)
    start = datetime(2024, 5, 1, 6)
    records = []
    for i in range(photos):
        boxes = [
            {
                "category": rng.choice("112"),
                "conf": rng.uniform(0.2, 1.0),
                "bbox": [rng.uniform(0, 0.6), rng.uniform(0, 0.6), 0.2, 0.3],
            }
            for _ in range(rng.choice((0, 0, 1, 2)))
        ]
        moment = start + timedelta(minutes=i // 3 * 7, seconds=i % 3)
        records.append(
            MediaRecord(
                file=f"cam{i % 10}/IMG_{i:05d}.JPG",
                detections=boxes,
                metadata={"captured": moment.isoformat()},
                width=1920,
                height=1080,
                ordinal=i,
            )
        )
    return records


def items(records: list[MediaRecord]) -> list[Item]:
    found = []
    for r in records:
        c = r.counts(0.2)
        found.append(
            Item(
                r.file,
                r.captured,
                {"animal": c["1"], "person": c["2"], "vehicle": c["3"]},
                r.max_conf,
            )
        )
    return found


def once(records: list[MediaRecord], folder: Path) -> tuple[float, float, float, int]:
    t0 = time.perf_counter()
    events = EventTables.build(items(records), gap_seconds=60, level=1)
    t1 = time.perf_counter()
    writer = CamtrapWriter(
        folder,
        events,
        job_id="bench",
        model="bench",
        threshold=0.2,
        utc_offset="+00:00",
        places={f"cam{i}": (10.0 + i, 20.0) for i in range(10)},
    )
    for r in records:
        writer.add(r)
    facts = writer.close(datetime(2026, 1, 1))
    t2 = time.perf_counter()
    facts = validated(folder, facts, SCHEMAS)
    t3 = time.perf_counter()
    assert facts.valid, facts.problems
    rows = sum(1 for _ in (folder / "observations.csv").open()) - 1
    return t1 - t0, t2 - t1, t3 - t2, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    records = card(args.photos)
    runs = []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(once(records, Path(tmp) / f"run{n}"))
    print(
        f"{args.photos} photos, {runs[0][3]} observation rows; seconds min / median / max "
        f"over {args.repeat} runs"
    )
    for i, name in enumerate(("events", "write package", "validate (frictionless)")):
        values = [r[i] for r in runs]
        print(
            f"  {name:<24} {min(values):7.2f} {statistics.median(values):7.2f} {max(values):7.2f}"
        )
    write = statistics.median(r[1] for r in runs)
    check = statistics.median(r[2] for r in runs)
    print(
        f"  validation / writing: {check / write:.1f}x; "
        f"{args.photos / check:.0f} photos validated per second"
    )


if __name__ == "__main__":
    main()
