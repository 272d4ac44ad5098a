"""How fast the site's result queries answer for a large job, on SQLite and on PostgreSQL.

    python -m benchmarks.bench_store --media 50000 --repeat 100
    python -m benchmarks.bench_store --database postgresql+psycopg://user@host/db

Fills a fresh store with one job of `--media` synthetic photos (0-3 detections each, 40 camera
folders, capture times, 1 in 50 a failure) through the model server's own batched writes, then
accepts a tenth of it in bulk as a reviewer would, then times each API request through the
Flask app (`GET /api/jobs/<id>/media` with the filters and orders the gallery and the review
mode use, `/summary`, and one review action), `--repeat` times each, and prints min / median
(p50) / p99 / max milliseconds. Without `--database` it measures an SQLite file and a
throwaway PostgreSQL server started like the test suite's (Debian's `postgresql` package must
be installed).
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.settings import Settings
from shared.store import open_store
from shared.store.records import MediaRecord
from shared.store.writes import JobRow, add_media, finish_job, start_job

JOB = "B" * 32
REQUESTS = {
    "first page, upload order": "media?per_page=50",
    "animals, most confident first": "media?outcome=animal&order=confidence&per_page=50",
    "one folder, page 10": "media?folder=site%2Fcam17&page=10&per_page=50",
    "by capture time, page 500": "media?order=captured&page=500&per_page=50",
    "confidence 0.2-0.5": "media?min_conf=0.2&max_conf=0.5&per_page=50",
    "empty images, page 100": "media?outcome=empty&page=100&per_page=50",
    "summary": "summary",
    # review: the gallery in uncertain-first order and the review mode's next image, after a
    # tenth of the job was accepted in bulk
    "gallery, most uncertain first": "media?order=uncertain&per_page=48",
    "gallery, not reviewed, uncertain": "media?reviewed=no&order=uncertain&per_page=48",
    "next uncertain (review mode)": "media?reviewed=no&order=uncertain&per_page=1",
    "uncertain, not reviewed, page 200": "media?reviewed=no&order=uncertain&page=200&per_page=48",
    "counts at threshold 0.6 (slider)": "summary?threshold=0.6",
    # events are worked out per request from a light read of the whole job
    "gallery by event, page 100": "media?order=event&page=100&per_page=48",
    "one event's files": "media?event=E000100",
}


def synthetic(count: int, seed: int = 1) -> Iterator[MediaRecord]:
    rng = random.Random(seed)
    start = datetime(2024, 5, 1, 6, 0)
    for i in range(count):
        folder = f"site/cam{i % 40:02d}"
        if i % 50 == 49:
            yield MediaRecord(
                f"{folder}/IMG_{i:06d}.JPG", failure="not a readable image", ordinal=i
            )
            continue
        dets = [
            {
                "category": rng.choice("1112"),
                "conf": rng.random(),
                "bbox": [rng.random() * 0.5, rng.random() * 0.5, 0.2, 0.3],
            }
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))
        ]
        meta = {
            "captured": (start + timedelta(seconds=37 * i)).isoformat(),
            "captured_from": "DateTimeOriginal",
            "make": "RECONYX",
            "model": "HF2 PRO",
            "serial": f"S{i % 40}",
            "latitude": -33.8 + i % 40 / 100,
            "longitude": 151.2,
        }
        yield MediaRecord(
            f"{folder}/IMG_{i:06d}.JPG",
            dets,
            width=2048,
            height=1536,
            metadata=meta,
            annotated=f"{i:06d}.jpg",
            thumbnail=f"{i:07d}.jpg",
            ordinal=i,
        )


def fill(url: str, count: int) -> float:
    """Stores the job as the model server does; returns images per second."""
    engine = open_store(url)
    began = time.perf_counter()
    start_job(engine, JobRow(JOB, datetime.now(UTC), "synthetic", 0.2, 0.2, 0.005))
    batch: list[MediaRecord] = []
    for record in synthetic(count):
        batch.append(record)
        if len(batch) == 250:
            add_media(engine, JOB, batch, 0.2, "synthetic")
            batch = []
    add_media(engine, JOB, batch, 0.2, "synthetic")
    finish_job(engine, JOB, datetime.now(UTC), images=count, failures=count // 50, counts={})
    rate = count / (time.perf_counter() - began)
    engine.dispose()
    return rate


def measure(url: str, data_dir: Path, count: int, repeat: int) -> None:
    from web import create_app

    rate = fill(url, count)
    app = create_app({"TESTING": True}, Settings(data_dir=data_dir, database_url=url))
    client = app.test_client()
    print(f"\n{url.split(':', 1)[0]}: {count:,} media stored at {rate:,.0f} images/s")
    began = time.perf_counter()
    for folder in range(4):  # a tenth of the job: four camera folders of forty
        client.post(
            f"/api/jobs/{JOB}/reviews",
            headers=SCRIPT,
            json={
                "action": "bulk_accept",
                "reviewer": "bench",
                "filter": {"folder": f"site/cam{folder:02d}"},
            },
        )
    print(f"  bulk accept of {count // 10:,} images: {time.perf_counter() - began:.2f} s")
    for label, path in REQUESTS.items():
        report(
            label,
            [
                timed(functools.partial(client.get, f"/api/jobs/{JOB}/{path}"))
                for _ in range(repeat)
            ],
        )
    targets = client.get(f"/api/jobs/{JOB}/media?reviewed=no&order=uncertain&per_page={repeat}")
    report(
        "one review action (accept)",
        [
            timed(
                functools.partial(
                    client.post,
                    f"/api/jobs/{JOB}/reviews",
                    headers=SCRIPT,
                    json={"action": "accept", "media_id": m["id"], "reviewer": "bench"},
                ),
                201,
            )
            for m in targets.get_json()["media"]
        ],
    )
    app.extensions["trapline.store"].dispose()


SCRIPT = {"X-API-Key": "benchmark"}


def timed(request: Callable[[], Any], status: int = 200) -> float:
    began = time.perf_counter()
    response = request()
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == status, response.get_data(as_text=True)
    return elapsed


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"  {label:34} min {ordered[0]:6.1f}  p50 {statistics.median(ordered):6.1f}  "
        f"p99 {p99:6.1f}  max {ordered[-1]:6.1f} ms  ({len(ordered)} runs)"
    )


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    from tests.conftest import free_port
    from tests.postgres import PostgresServer

    server = PostgresServer(free_port())
    server.start()
    try:
        yield server.new_database()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--media", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--database", action="append", help="a database URL (repeatable)")
    args = parser.parse_args()
    on_each_database(
        args.database,
        lambda url, folder: measure(url, folder, args.media, args.repeat),
        "trapline-bench-store-",
    )


def on_each_database(urls: list[str] | None, run: Callable[[str, Path], None], prefix: str) -> None:
    """`run(url, data folder)` on each given database, else on an SQLite file and then on a
    throwaway PostgreSQL server."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        folder = Path(tmp)
        if urls:
            for url in urls:
                run(url, folder)
            return
        run(f"sqlite:///{folder / 'bench.db'}", folder)
        with throwaway_postgres() as url:
            run(url, folder)


if __name__ == "__main__":
    main()
