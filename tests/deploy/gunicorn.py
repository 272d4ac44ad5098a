"""The upload site as it is deployed: real gunicorn with the repo's config, on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.conftest import REPO, free_port
from tests.processes import wait_for


def gunicorn_env(settings, folder: Path, **more: str) -> dict[str, str]:
    """The environment gunicorn runs with: the test's data folder and Redis, a free port, its
    control socket in `folder`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "TRAPLINE_DATA_DIR": str(settings.data_dir),
        "TRAPLINE_REDIS_URL": settings.redis_url,
        "TRAPLINE_DATABASE_URL": settings.database_url,
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_CONTROL_SOCKET": str(folder / "gunicorn.ctl"),
        **more,
    }


def start_gunicorn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """gunicorn with the repo's config, its output appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
            + ["web:create_app()"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """Starts gunicorn, waits until /healthz answers, yields its base URL; stops it after."""
    process = start_gunicorn(env, log)
    with serving(process, f"http://{env['GUNICORN_BIND']}", "gunicorn", log) as base:
        yield base


@contextmanager
def serving(
    process: subprocess.Popen[bytes], base: str, what: str, log: Path | None = None
) -> Iterator[str]:
    """Waits until `base`/healthz answers 200 (the process dying first fails the test, with
    its log), yields `base`; stops the process after."""

    def up() -> bool:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log else ""
            raise AssertionError(f"{what} exited: {said}")
        try:
            return requests.get(base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(up, timeout=30, what=what)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
