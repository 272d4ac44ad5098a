#!/usr/bin/env python3
"""Load test on this machine only: 20 uploads of mixed sizes and 200 status pollers at once for
60 s, against gunicorn + one model server + Redis that this script starts on loopback ports.

    .venv/bin/python scripts/load_test.py [--model PATH] [--uploads 20] [--pollers 200]
                                          [--seconds 60] [--records 0 ...] [--repeat 1]

Prints requests, errors, p50/p99 status latency, jobs completed and images lost (must be 0).
`--records 20 20000 --repeat 3` runs the whole test with that many past jobs' records already in
Redis (a fresh stack each run, the sizes interleaved), then min / median / max of p50 and p99
for each size and the ratio of the medians. Every loop is bounded in count and time; nothing but
127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import requests
from redis import Redis

from shared.contract import JobState, JobStatus, create_state
from shared.storage import new_job_id

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PHOTO_DIRS = [
    SHARED / "data" / "camtrap-dp" / "example" / "media",
    SHARED / "data" / "camera-trap" / "ena24",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def photos() -> list[bytes]:
    found = [p.read_bytes() for d in PHOTO_DIRS if d.is_dir() for p in sorted(d.iterdir())]
    if found:
        return found
    from PIL import Image  # no shared data: plain generated photos

    out = []
    for i in range(8):
        buf = io.BytesIO()
        Image.new("RGB", (1024, 768), (40 * i, 90, 60)).save(buf, "JPEG")
        out.append(buf.getvalue())
    return out


def upload_zip(count: int, pool: list[bytes], seed: int) -> bytes:
    rng = random.Random(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for i in range(count):
            archive.writestr(f"cam{seed}/IMG_{i:04d}.JPG", rng.choice(pool))
    return buf.getvalue()


class Stack:
    """redis-server, gunicorn and one trapline-worker, on loopback, in a temp data folder."""

    def __init__(self, model: Path, tmp: Path) -> None:
        self.redis_port, self.web_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "TRAPLINE_DATA_DIR": str(tmp / "data"),
            "TRAPLINE_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "TRAPLINE_MODEL_PATH": str(model),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
            "GUNICORN_WORKERS": "2",
            "TRAPLINE_LOG_LEVEL": "WARNING",
        }
        bin_dir = Path(sys.executable).parent
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs = [
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--dir",
                    str(tmp),
                ],
                **quiet,
            ),
            subprocess.Popen(
                [str(bin_dir / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "web:create_app()"],
                cwd=REPO,
                env=self.env,
                **quiet,
            ),
            subprocess.Popen([str(bin_dir / "trapline-worker")], cwd=REPO, env=self.env, **quiet),
        ]
        self.url = f"http://127.0.0.1:{self.web_port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).json().get("model_servers") == 1:
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        raise SystemExit("the stack did not come up")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def seed_records(redis_url: str, count: int) -> None:
    """`count` finished jobs' records, as the service leaves them for the two weeks they live."""
    redis = Redis.from_url(redis_url)
    try:
        for i in range(count):
            create_state(
                redis, JobState(id=new_job_id(), status=JobStatus.FINISHED, total=50, created_at=i)
            )
    finally:
        redis.close()


def run(args: argparse.Namespace) -> int:
    pool = photos()
    figures: dict[int, list[tuple[float, float]]] = {n: [] for n in args.records}
    failed = 0
    for round_ in range(args.repeat):
        for records in args.records:
            print(f"--- run {round_ + 1} of {args.repeat}, {records} records seeded")
            with tempfile.TemporaryDirectory(prefix="trapline-load-") as tmp_name:
                stack = Stack(args.model, Path(tmp_name))
                try:
                    stack.wait_ready()
                    seed_records(stack.env["TRAPLINE_REDIS_URL"], records)
                    outcome, p50, p99 = drive(stack.url, pool, args)
                finally:
                    stack.stop()
            failed += outcome
            figures[records].append((p50, p99))
    if len(args.records) > 1 or args.repeat > 1:
        summarise(figures)
    return 1 if failed else 0


def summarise(figures: dict[int, list[tuple[float, float]]]) -> None:
    def spread(values: list[float]) -> str:
        return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f} ms"

    print("records seeded | status p50 min / median / max | status p99 min / median / max")
    for records, runs in figures.items():
        print(f"{records} | {spread([a for a, _ in runs])} | {spread([b for _, b in runs])}")
    smallest, largest = min(figures), max(figures)
    if smallest != largest:
        for label, at in (("p50", 0), ("p99", 1)):
            ratio = statistics.median(r[at] for r in figures[largest]) / statistics.median(
                r[at] for r in figures[smallest]
            )
            print(f"median {label} at {largest} records / at {smallest}: {ratio:.2f}")


def drive(url: str, pool: list[bytes], args: argparse.Namespace) -> tuple[int, float, float]:
    sizes = [4 + (i * 7) % 29 for i in range(args.uploads)]  # 4..32 images, mixed
    jobs: dict[str, int] = {}
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"status": 0, "upload": 0, "errors": 0}
    deadline = time.monotonic() + args.seconds

    def uploader(i: int) -> None:
        body = upload_zip(sizes[i], pool, i)
        try:
            r = requests.post(
                url + "/api/jobs",
                data={"email": f"load{i}@example.org"},
                files={"files": (f"card{i}.zip", body)},
                headers={"X-API-Key": "load test"},  # a script: no CSRF token (no key is set)
                timeout=120,
            )
            ok = r.status_code == 201
        except requests.RequestException:
            ok = False
        with lock:
            counts["upload"] += 1
            if ok:
                jobs[r.json()["id"]] = sizes[i]
            else:
                counts["errors"] += 1

    def poller(seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        for _ in itertools.count():
            if time.monotonic() >= deadline:
                return
            with lock:
                ids = list(jobs)
            job = rng.choice(ids) if ids else "A" * 32  # before any job exists: a 404 is expected
            start = time.perf_counter()
            try:
                r = session.get(f"{url}/api/jobs/{job}", timeout=30)
                ok = r.status_code == 200 or (not ids and r.status_code == 404)
            except requests.RequestException:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - start)
                counts["status"] += 1
                counts["errors"] += 0 if ok else 1
            time.sleep(rng.uniform(0.5, 1.5))

    threads = [threading.Thread(target=uploader, args=(i,)) for i in range(args.uploads)]
    threads += [threading.Thread(target=poller, args=(i,)) for i in range(args.pollers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 180)
    finished: dict[str, tuple[int, int]] = {}  # job -> (images in zip, error rows)
    settle = time.monotonic() + 300  # let the queue drain, bounded
    while time.monotonic() < settle and len(finished) < len(jobs):
        for job_id in set(jobs) - set(finished):
            status = requests.get(f"{url}/api/jobs/{job_id}", timeout=30).json()
            if status["status"] in ("finished", "failed", "cancelled"):
                done = status["status"] == "finished"
                finished[job_id] = processed_in_zip(url, job_id) if done else (0, 0)
        time.sleep(1)
    uploaded = sum(sizes)
    returned = sum(n for n, _ in finished.values())
    error_rows = sum(e for _, e in finished.values())
    lost = uploaded - returned
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    enough = len(latencies) > 100
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if enough else float("nan")
    print(f"duration: {time.monotonic() - started:.0f} s (pollers {args.seconds} s)")
    print(
        f"requests: {counts['status'] + counts['upload']} ({counts['upload']} uploads, "
        f"{counts['status']} status)"
    )
    print(f"errors: {counts['errors']}")
    print(f"status latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"jobs completed: {len([j for j, (n, _) in finished.items() if n])} of {args.uploads}")
    # every photo sent decodes, so an error row is as much a failure as a lost photo
    print(
        f"images uploaded: {uploaded}, in result zips: {returned}, of which error rows: "
        f"{error_rows}, lost: {lost}"
    )
    outcome = 0 if lost == 0 and error_rows == 0 and counts["errors"] == 0 else 1
    return outcome, p50, p99


def processed_in_zip(url: str, job_id: str) -> tuple[int, int]:
    """Images in the result zip's detections.json, each counted once, and how many of them
    came back as error rows (a `failure` instead of detections)."""
    body = requests.get(f"{url}/download/{job_id}", timeout=120).content
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        images = json.loads(archive.read("detections.json"))["images"]
    failed = {im["file"] for im in images if im.get("failure")}
    return len({im["file"] for im in images}), len(failed)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, default=SHARED / "models" / "yolox_nano_float16_quantize.tflite"
    )
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--records", type=int, nargs="+", default=[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not args.model.is_file():
        parser.error(f"no model at {args.model}; pass --model")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
