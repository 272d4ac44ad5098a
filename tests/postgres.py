"""A real PostgreSQL server for the test session: Debian's binaries, a cluster made with
`initdb` in a temporary folder and started on a free port, a fresh database per test."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest


def _binary(name: str) -> str:
    """Debian keeps the server's programs off PATH, under its major version."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    found = versions[-1] if versions else shutil.which(name)
    if not found:
        raise pytest.UsageError(f"PostgreSQL's {name} is missing: run scripts/setup.sh --test")
    return str(found)


class PostgresServer:
    """PostgreSQL refuses to run as root: as root the cluster belongs to `postgres`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="trapline-pg-", dir="/tmp"))
        self.user = "postgres" if os.geteuid() == 0 else None
        self.proc: subprocess.Popen[bytes] | None = None

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *command] if self.user else list(command)

    def start(self) -> None:
        data = self.folder / "data"
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            self._as_owner(
                _binary("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        self.run()

    def run(self) -> None:
        """Starts the server on the cluster made by start() and waits until it answers."""
        data = self.folder / "data"
        with (self.folder / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                self._as_owner(
                    _binary("postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-k",
                    str(self.folder),
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        ready = _binary("pg_isready")
        for _ in range(600):
            if (
                subprocess.run(
                    [ready, "-h", "127.0.0.1", "-p", str(self.port)],
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            ):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(
            "PostgreSQL did not start: "
            + (self.folder / "server.log").read_text(errors="replace")[-2000:]
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def pause(self) -> None:
        """Stops the server as an administrator's restart does (fast shutdown: every session
        is ended), keeping its cluster for run()."""
        if self.proc is not None:
            subprocess.run(
                self._as_owner(
                    _binary("pg_ctl"), "stop", "-D", str(self.folder / "data"), "-m", "fast"
                ),
                check=True,
                capture_output=True,
                timeout=60,
            )
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None
        shutil.rmtree(self.folder, ignore_errors=True)
