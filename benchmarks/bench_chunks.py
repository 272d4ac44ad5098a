"""One job on 1, 2 and 3 model servers, split into chunks, against the ideal linear line; and
what chunking costs on one server. Measured side by side in one run, repeated:

    python -m benchmarks.bench_chunks --images 300 --chunk 50 --wait 0.2 --repeat 3

Each server is the real model server (`trapline-worker`: queue, leases, chunks, store, outputs)
with a stand-in detector that waits `--wait` seconds per photo, as a GPU-bound detector keeps
its server busy while leaving the CPUs free: so the orchestration is measured, not this
machine's few cores. Photos are the real ones in ../shared/data, made small (decoding them
costs little next to the wait) and repeated under distinct names. Each round runs, in turn:
one server on the job whole (chunks larger than the job), one server in chunks, two and three
servers in chunks; a job's time is from its queueing until its record says finished (outputs
made), with the servers started and ready beforehand. Redis is a private redis-server; the
results database an SQLite file (WAL), as a single box has it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from redis import Redis

from benchmarks.bench_pipeline import source_photos
from benchmarks.bench_startup import start_redis
from shared.contract import JobState, JobStatus, enqueue_job, load_state
from shared.model_servers import live_count
from shared.storage import Storage, new_job_id

REPO = Path(__file__).resolve().parent.parent
LONG_SIDE = 480  # pixels: decoding and drawing stay small next to the detector's wait


def small_photos(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    sources = source_photos()
    made = []
    for src in sources:
        with Image.open(src) as image:
            image.thumbnail((LONG_SIDE, LONG_SIDE))
            made.append(image.convert("RGB"))
    for i in range(count):
        made[i % len(made)].save(folder / f"{i:05d}.jpg", quality=85)


def start_servers(
    count: int, env: dict[str, str], logs: Path, wait: float
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for n in range(count):
        with (logs / f"server{n}.log").open("ab") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.waiting_worker", "--wait", str(wait)],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stop_servers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)


def run_job(redis: Redis, storage: Storage, photos: Path, count: int) -> float:
    """Seconds from queueing a job of the photos to its record saying finished."""
    job_id = new_job_id()
    shutil.copytree(photos, storage.upload_dir(job_id))
    start = time.perf_counter()
    enqueue_job(redis, JobState(id=job_id, email="bench@example.org", total=count))
    while True:
        state = load_state(redis, job_id)
        if state is not None and state.status is JobStatus.FINISHED:
            return time.perf_counter() - start
        if state is not None and state.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise SystemExit(f"job {job_id} {state.status.value}: {state.error}")
        time.sleep(0.05)  # a benchmark's poll: 50 ms is below 0.1 % of a run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=50, help="TRAPLINE_CHUNK_IMAGES")
    parser.add_argument("--wait", type=float, default=0.2, help="the stand-in's seconds a photo")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sides = [("1 server, whole job", 1, args.images + 1)] + [
        (f"{n} server{'s' if n > 1 else ''}, chunks", n, args.chunk) for n in (1, 2, 3)
    ]
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in sides}
    with tempfile.TemporaryDirectory(prefix="trapline-chunks-") as tmp_name:
        tmp = Path(tmp_name)
        small_photos(tmp / "photos", args.images)
        redis_proc, redis_url = start_redis(tmp)
        redis = Redis.from_url(redis_url)
        storage = Storage(tmp / "data")
        storage.ensure()
        base_env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "TRAPLINE_REDIS_URL": redis_url,
            "TRAPLINE_DATA_DIR": str(storage.root),
            "TRAPLINE_DATABASE_URL": f"sqlite:///{tmp / 'results.db'}",
            "TRAPLINE_MODEL_PATH": __file__,  # any file: the stand-in never reads it
        }
        try:
            for round_ in range(args.repeat):
                for name, servers, chunk in sides:
                    env = {**base_env, "TRAPLINE_CHUNK_IMAGES": str(chunk)}
                    procs = start_servers(servers, env, tmp, args.wait)
                    try:
                        while live_count(redis) < servers:
                            time.sleep(0.05)
                        seconds[name].append(run_job(redis, storage, tmp / "photos", args.images))
                    finally:
                        stop_servers(procs)
                    print(f"round {round_ + 1}: {name}: {seconds[name][-1]:.1f} s", flush=True)
        finally:
            redis.close()
            redis_proc.terminate()
            redis_proc.wait(timeout=30)
    report(args, seconds)


def report(args: argparse.Namespace, seconds: dict[str, list[float]]) -> None:
    ideal = args.images * args.wait
    print(
        f"\n{args.images} photos, chunks of {args.chunk}, stand-in waiting"
        f" {args.wait * 1000:.0f} ms a photo (the detector alone: {ideal:.0f} s on one server);"
        f" {args.repeat} rounds;"
        f" {os.cpu_count()} cores"
    )
    print(f"{'':24} {'images/s min':>12} {'median':>8} {'max':>8}")
    rates = {name: sorted(args.images / s for s in values) for name, values in seconds.items()}
    for name, values in rates.items():
        print(f"{name:24} {values[0]:12.2f} {statistics.median(values):8.2f} {values[-1]:8.2f}")
    one = statistics.median(rates["1 server, chunks"])
    print("\nmedian speed-up over one server (ideal: the number of servers)")
    for n in (2, 3):
        name = f"{n} servers, chunks"
        print(f"  {name}: {statistics.median(rates[name]) / one:.2f}x (ideal {n}.00x)")
    whole = statistics.median(rates["1 server, whole job"])
    print(f"one server, chunks against the whole job: {one / whole:.3f}x")


if __name__ == "__main__":
    main()
