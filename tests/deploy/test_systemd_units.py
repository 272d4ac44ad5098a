"""The systemd units pass `systemd-analyze verify` with no warning about unknown keys."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

UNITS = REPO / "deploy" / "systemd"
pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze missing: run scripts/setup.sh --test",
)


def verify(folder: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def installed_copy(tmp_path: Path, extra: str = "") -> list[str]:
    """The units as installed: /opt/trapline is this checkout, the env file a temp one."""
    env = tmp_path / "trapline.env"
    env.write_text("TRAPLINE_DATA_DIR=/srv/trapline\n")
    names = []
    for unit in sorted(UNITS.iterdir()):
        text = (
            unit.read_text()
            .replace("/opt/trapline", str(REPO))
            .replace("/etc/trapline/trapline.env", str(env))
        )
        if extra and unit.name == "trapline-web.service":
            text = text.replace("[Service]\n", f"[Service]\n{extra}\n")
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
        names.append(name)
    return names


def test_units_verify_cleanly(tmp_path: Path) -> None:
    names = installed_copy(tmp_path)
    assert {
        "trapline-web.service",
        "trapline-worker@1.service",
        "trapline-cleanup.service",
        "trapline-cleanup.timer",
    } <= set(names)
    result = verify(tmp_path, names)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Unknown" not in output and "unknown" not in output.lower(), output


def test_a_misspelt_key_would_be_caught(tmp_path: Path) -> None:
    result = verify(tmp_path, installed_copy(tmp_path, extra="Restartt=always"))
    assert "Unknown key" in result.stdout + result.stderr


def test_hardening_and_stop_timeouts() -> None:
    worker = (UNITS / "trapline-worker@.service").read_text()
    web = (UNITS / "trapline-web.service").read_text()
    for unit in (worker, web):
        for line in (
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/srv/trapline",
            "Restart=on-failure",
            "EnvironmentFile=/etc/trapline/trapline.env",
        ):
            assert line in unit
    stop = int(
        next(l for l in worker.splitlines() if l.startswith("TimeoutStopSec=")).split("=")[1]
    )
    assert stop >= 120  # longer than one image's inference, after which the job is released
