"""`trapline-admin`, run as the installed command a sysadmin types, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.people import tokens
from shared.people.users import authenticate, user_by_name
from shared.store import open_store

COMMAND = Path(sys.executable).with_name("trapline-admin")


def admin(
    database_url: str, tmp_path: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TRAPLINE_DATA_DIR": str(tmp_path / "data"),
        "TRAPLINE_DATABASE_URL": database_url,
        "TRAPLINE_PUBLIC_URL": "https://traps.example.org",
    }
    return subprocess.run(
        [str(COMMAND), *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_first_admin_is_made_without_a_prompt(database_url: str, tmp_path: Path) -> None:
    made = admin(
        database_url, tmp_path, "create-user", "root", "--email", "root@example.org", "--site-admin"
    )
    assert made.returncode == 0, made.stderr
    assert "created site admin root" in made.stdout
    password = made.stdout.split("password (shown once; change it on the account page): ")[
        1
    ].strip()
    engine = open_store(database_url)
    try:
        root = authenticate(engine, "root", password)
        assert root is not None and root.site_admin
        piped = admin(
            database_url,
            tmp_path,
            "create-user",
            "ana",
            "--email",
            "ana@example.org",
            "--password-stdin",
            stdin="ana's long passphrase\n",
        )
        assert piped.returncode == 0 and "password" not in piped.stdout.replace("created", "")
        assert authenticate(engine, "ana", "ana's long passphrase") is not None
        twice = admin(database_url, tmp_path, "create-user", "ana", "--email", "a@example.org")
        assert twice.returncode == 1 and "already a user called 'ana'" in twice.stderr
        listed = admin(database_url, tmp_path, "list-users")
        assert [line.split("\t")[1] for line in listed.stdout.splitlines()] == ["ana", "root"]
    finally:
        engine.dispose()


def test_tokens_and_reset_links_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    admin(database_url, tmp_path, "create-user", "ana", "--email", "ana@example.org")
    made = admin(database_url, tmp_path, "create-token", "ana", "--label", "camera sync")
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    engine = open_store(database_url)
    try:
        from datetime import UTC, datetime

        moment = datetime(2027, 1, 1, tzinfo=UTC)
        ana = user_by_name(engine, "ana")
        assert ana is not None and tokens.user_for_token(engine, token, now=moment) == ana
        (record,) = tokens.tokens_of(engine, ana.id)
        assert record.name == "camera sync"
        revoked = admin(database_url, tmp_path, "revoke-token", "ana", str(record.id))
        assert revoked.returncode == 0 and tokens.user_for_token(engine, token, now=moment) is None
        link = admin(database_url, tmp_path, "reset-password", "ana")
        assert link.stdout.splitlines()[-1].startswith("https://traps.example.org/reset/")
        off = admin(database_url, tmp_path, "deactivate", "ana")
        assert off.returncode == 0 and not (user_by_name(engine, "ana") or ana).active
        unknown = admin(database_url, tmp_path, "create-token", "nobody")
        assert unknown.returncode == 1 and "no user called 'nobody'" in unknown.stderr
    finally:
        engine.dispose()
