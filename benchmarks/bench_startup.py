"""Start-up, side by side in one run: `trapline-batch` on 10 real photos, and a model server's
time from its start to "ready" (its log line), with the TFLite model run by LiteRT (the default)
and by TensorFlow's own tf.lite (LiteRT hidden, as on a platform without its wheel). Each run
is a fresh process; rounds take the two runtimes in turn so drift hits both. Prints wall
seconds, CPU seconds (user + system, all threads) and peak RSS, min / median / max, and the
ratios of the medians.

With `--graph`, the model is the MegaDetector-like frozen graph instead (`mdlike_graph.py`),
converted once by `trapline-models convert`, and the two sides are the graph on TensorFlow (its
ONNX twin moved aside for those runs) and its twin on onnxruntime, with no TensorFlow import.

    python -m benchmarks.bench_startup --repeat 5
    python -m benchmarks.bench_startup --repeat 3 --graph
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pipeline import MDLITE, _spread, make_batch

# (what the launch line is given, its label) of the two sides compared, baseline first
SIDES = {
    "tflite": (("tensorflow", "tf.lite (TensorFlow)"), ("litert", "LiteRT")),
    "graph": (("graph", "graph on TensorFlow"), ("twin", "ONNX twin")),
}
# the command as its console script runs it, with LiteRT hidden for the "tensorflow" runs
LAUNCH = (
    "import sys\n"
    "if sys.argv.pop(1) == 'tensorflow':\n"
    "    sys.modules['ai_edge_litert'] = None\n"
    "from importlib import import_module\n"
    "sys.exit(import_module(sys.argv.pop(1)).main(sys.argv[1:]))\n"
)
TICKS = os.sysconf("SC_CLK_TCK")
BUILD_GRAPH = (
    "import sys\n"
    "from pathlib import Path\n"
    "from benchmarks.mdlike_graph import build_mdlike_graph\n"
    "build_mdlike_graph(Path(sys.argv[1]))\n"
)


def _command(runtime: str, module: str, *args: str) -> list[str]:
    return [sys.executable, "-c", LAUNCH, runtime, module, *args]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", **extra}


def batch_run(runtime: str, model: Path, photos: Path, out: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one `trapline-batch` run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(runtime, "model_server.cli", str(photos), "-o", str(out), "--model", str(model)),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"trapline-batch ({runtime}) failed with exit code {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _cpu_and_peak(pid: int) -> tuple[float, float]:
    """CPU seconds so far and peak RSS (MB) of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime and stime, fields 14 and 15
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return cpu, int(line.split()[1]) / 1024
    return cpu, 0.0


def worker_ready(runtime: str, model: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds from a model server's start to its "ready" line, its CPU seconds and peak RSS
    (MB) at that moment; then it is stopped."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(runtime, "model_server.service.worker"),
        env={**env, "TRAPLINE_MODEL_PATH": str(model)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the log is read as it comes: no polling, no sleep
            if " ready with " in line:
                wall = time.perf_counter() - start
                cpu, peak = _cpu_and_peak(proc.pid)
                return wall, cpu, peak
        raise SystemExit(f"the model server ({runtime}) ended before it was ready")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # its own "Ready to accept connections" line
        if b"Ready to accept connections" in line:
            return proc, f"redis://127.0.0.1:{port}/0"
    raise SystemExit("redis-server did not start")


def _converted_graph(folder: Path, photos: Path) -> Path:
    """The MegaDetector-like graph with its ONNX twin beside it, checked on the photos; both made
    in child processes, so that this one stays small (a child's peak RSS starts from its
    parent's at the fork)."""
    graph = folder / "mdlike.pb"
    subprocess.run(
        [sys.executable, "-c", BUILD_GRAPH, str(graph)], env=_env(), check=True, capture_output=True
    )
    convert = [sys.executable, "-m", "model_server.detectors.download", "convert", str(graph)]
    subprocess.run([*convert, "--check", str(photos)], env=_env(), check=True, capture_output=True)
    return graph


def _twin_in_place(model: Path, wanted: bool) -> None:
    """Puts the graph's twin files beside it, or moves them aside (for the TensorFlow runs)."""
    from model_server.detectors.megadetector_onnx import twin_paths

    for path in twin_paths(model):
        aside = path.with_name(path.name + ".aside")
        source, dest = (aside, path) if wanted else (path, aside)
        if source.exists():
            source.rename(dest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--model", type=Path, default=MDLITE, help="a .tflite model")
    parser.add_argument(
        "--graph", action="store_true", help="the MegaDetector-like graph against its ONNX twin"
    )
    args = parser.parse_args()
    sides = SIDES["graph" if args.graph else "tflite"]
    figures: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="trapline-startup-") as tmp_name:
        tmp = Path(tmp_name)
        make_batch(tmp / "photos", args.images)
        if args.graph:
            (tmp / "model").mkdir()
            args.model = _converted_graph(tmp / "model", tmp / "photos")
        redis, redis_url = start_redis(tmp)
        env = _env(
            TRAPLINE_REDIS_URL=redis_url,
            TRAPLINE_DATA_DIR=str(tmp / "data"),
            TRAPLINE_DATABASE_URL=f"sqlite:///{tmp / 'results.db'}",
        )
        try:
            for i in range(args.repeat):
                for runtime, _ in sides:
                    _twin_in_place(args.model, runtime != "graph")
                    out = tmp / f"{runtime}{i}.zip"
                    batch = batch_run(runtime, args.model, tmp / "photos", out)
                    ready = worker_ready(runtime, args.model, env)
                    for what, values in (("batch", batch), ("ready", ready)):
                        for name, value in zip(("wall s", "CPU s", "peak MB"), values, strict=True):
                            figures.setdefault((what, name, runtime), []).append(value)
                    shutil.rmtree(tmp / f"{runtime}{i}", ignore_errors=True)
        finally:
            redis.terminate()
            redis.wait(timeout=30)
    cores = os.cpu_count()
    print(f"model: {args.model.name}; {args.images} photos; {args.repeat} rounds; {cores} cores")
    titles = {
        "batch": f"trapline-batch on {args.images} photos",
        "ready": "model server, start to ready",
    }
    for what, title in titles.items():
        print(title)
        for name in ("wall s", "CPU s", "peak MB"):
            for runtime, label in sides:
                print(f"  {name:8} {label:21} {_spread(figures[(what, name, runtime)])}")
            (base, base_label), (other, other_label) = sides
            before = statistics.median(figures[(what, name, base)])
            after = statistics.median(figures[(what, name, other)])
            print(f"  {name:8} {other_label} / {base_label} (medians): {after / before:.2f}")


if __name__ == "__main__":
    main()
