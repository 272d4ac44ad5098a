"""Real processes for tests: model servers started as `python -m model_server.service.worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from shared.contract import JobState, load_state
from tests.conftest import REPO

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 60, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Workers:
    def __init__(self, settings, log_dir: Path) -> None:
        self.settings, self.log_dir = settings, log_dir
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(
        self, *args: str, model: Path | None = None, redis_url: str | None = None, **extra_env: str
    ) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "TRAPLINE_REDIS_URL": redis_url or self.settings.redis_url,
            "TRAPLINE_DATA_DIR": str(self.settings.data_dir),
            "TRAPLINE_MODEL_PATH": str(model or self.settings.model_path),
            "TRAPLINE_DATABASE_URL": self.settings.database_url,
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            **extra_env,
        }
        log = self.log_dir / f"worker{len(self.procs)}.log"
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "model_server.service.worker", *args],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append((proc, log))
        return proc

    def log(self, index: int) -> str:
        return self.procs[index][1].read_text(errors="replace")

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"a model server ignored SIGTERM for 30 s; killed: {proc.args!r}")
                proc.kill()
                proc.wait(timeout=30)


def state_of(redis_conn, job_id: str) -> JobState:
    """The job's live record, which the test expects to exist."""
    state = load_state(redis_conn, job_id)
    assert state is not None, f"job {job_id} has no record"
    return state
