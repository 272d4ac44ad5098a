"""`scripts/run.sh` as a person runs it (install step skipped), and the admin password helper."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import MODELS, REPO, YOLOX_TFLITE, free_port

pytestmark = pytest.mark.slow


def run_script(tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    full = {
        **os.environ,
        "TRAPLINE_SKIP_SETUP": "1",
        "TRAPLINE_DATA_DIR": str(tmp_path / "var"),
        "TRAPLINE_PORT": str(free_port()),
        "TRAPLINE_REDIS_PORT": str(free_port()),
        "TRAPLINE_MODEL_PATH": str(YOLOX_TFLITE),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TRAPLINE_SPECIES_EMBEDDER": str(MODELS / "yolox_nano.onnx"),
        **env,
    }
    full.pop("TRAPLINE_REDIS_URL", None)
    return subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=REPO,
        env=full,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_a_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_script(tmp_path, TRAPLINE_LEASE_SECONDS="soon")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "run: the settings are not valid: TRAPLINE_LEASE_SECONDS='soon' is not valid" in out
    assert "is up" not in out and "Traceback" not in out


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_script(tmp_path, TRAPLINE_PORT=str(port))
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"run: port {port} is already in use" in out and "is up" not in out


def test_up_is_said_only_once_the_site_answers(tmp_path: Path) -> None:
    port = free_port()
    proc = run_script(tmp_path, TRAPLINE_PORT=str(port))
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            if "Trapline is up" in line or time.monotonic() > deadline:
                break
        assert f"Trapline is up at http://127.0.0.1:{port}/" in line
        # the moment it says so, the site answers
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status in (200, 503)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"Upload camera-trap photos" in response.read()
        # the model server stops on its own: the script says which part stopped, and stops
        found = subprocess.run(
            ["pgrep", "-o", "-g", str(proc.pid), "-f", "bin/trapline-worker"],
            capture_output=True,
            text=True,
            check=True,
        )
        os.kill(int(found.stdout.strip()), signal.SIGKILL)
        rest, _ = proc.communicate(timeout=60)
        assert "run: the model server stopped (exit status 137)" in rest
        assert "under systemd, which restarts each part on its own" in rest
        assert proc.returncode == 137
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.communicate(timeout=60)


def test_hash_password_prints_a_line_that_survives_the_env_file_and_a_shell(
    tmp_path: Path, capsys
) -> None:
    from werkzeug.security import check_password_hash

    from web.admin import main

    password = "correct horse battery $HOME `x` 'q'"
    assert main(["hash-password"], ask=lambda prompt: password) == 0
    line = capsys.readouterr().out.strip()
    env_file = tmp_path / "trapline.env"
    env_file.write_text(line + "\n")
    read = subprocess.run(
        ["bash", "-c", f'set -a; source {env_file}; printf %s "$TRAPLINE_ADMIN_PASSWORD_HASH"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert read.count("$") >= 2 and check_password_hash(read, password)
