"""The cleanup job on files of chosen ages, with real Redis records."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared.cleanup import Cleaner
from shared.contract import JobState, JobStatus, create_state
from shared.storage import Storage, new_job_id
from tests.conftest import REPO
from tests.processes import state_of

DAY = 86400
# The cleaner's clock for the in-process tests: ages never depend on when the tests run.
NOW = 1_790_000_000.0


def age(path: Path, days: float, now: float = NOW) -> None:
    stamp = now - days * DAY
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def make_job(store: Storage, redis_conn, status: JobStatus, days: float, now: float = NOW) -> str:
    job_id = new_job_id()
    create_state(redis_conn, JobState(id=job_id, status=status))
    upload = store.upload_dir(job_id)
    upload.mkdir(parents=True)
    (upload / "card.zip").write_bytes(b"x" * 1000)
    work = store.work_dir(job_id)
    work.mkdir(parents=True)
    result = store.result_zip(job_id)
    result.write_bytes(b"z" * 5000)
    for path in (upload, work, result):
        age(path, days, now)
    return job_id


def test_old_files_go_recent_and_active_stay(settings, redis_conn, tmp_path: Path) -> None:
    store = Storage(settings.data_dir)
    store.ensure()
    old = make_job(store, redis_conn, JobStatus.FINISHED, 20)
    recent = make_job(store, redis_conn, JobStatus.FINISHED, 3)
    waiting = make_job(store, redis_conn, JobStatus.QUEUED, 30)  # a queued job keeps its upload
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("not ours")
    link = store.results_root / f"{new_job_id()}.zip"
    link.symlink_to(outside)
    age(link, 40)
    stranger = store.results_root / "notes.txt"  # not named like a job: never touched
    stranger.write_text("sysadmin's file")
    age(stranger, 400)

    report = Cleaner(
        settings, redis_conn, dry_run=False, results_days=14, uploads_days=14, now=NOW
    ).run()

    assert not store.result_zip(old).exists() and not store.upload_dir(old).exists()
    assert not store.work_dir(old).exists()
    assert state_of(redis_conn, old).status is JobStatus.EXPIRED
    assert store.result_zip(recent).exists() and store.upload_dir(recent).exists()
    assert state_of(redis_conn, recent).status is JobStatus.FINISHED
    assert store.upload_dir(waiting).exists() and report.kept_active == 2  # upload and work
    assert not link.exists() and (outside / "keep.txt").read_text() == "not ours"
    assert stranger.exists()
    assert report.removed == 5 and report.errors == []
    assert report.bytes_freed >= 5000 + 1000


def test_dry_run_lists_and_removes_nothing(settings, redis_conn) -> None:
    store = Storage(settings.data_dir)
    store.ensure()
    old = make_job(store, redis_conn, JobStatus.FINISHED, 20)
    report = Cleaner(
        settings, redis_conn, dry_run=True, results_days=14, uploads_days=14, now=NOW
    ).run()
    assert str(store.result_zip(old)) in report.would_remove
    assert store.result_zip(old).exists() and state_of(redis_conn, old).status is JobStatus.FINISHED


def test_results_and_uploads_have_their_own_ages(settings, redis_conn) -> None:
    store = Storage(settings.data_dir)
    store.ensure()
    job = make_job(store, redis_conn, JobStatus.FINISHED, 10)
    Cleaner(settings, redis_conn, dry_run=False, results_days=30, uploads_days=7, now=NOW).run()
    assert store.result_zip(job).exists() and not store.upload_dir(job).exists()


def test_expired_link_says_expired(settings, redis_conn, client) -> None:
    store = Storage(settings.data_dir)
    store.ensure()
    old = make_job(store, redis_conn, JobStatus.FINISHED, 20)
    Cleaner(settings, redis_conn, dry_run=False, results_days=14, uploads_days=14, now=NOW).run()
    response = client.get(f"/download/{old}", headers={"Accept": "application/json"})
    assert response.status_code == 410


def run_script(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TRAPLINE_DATA_DIR": str(settings.data_dir),
        "TRAPLINE_REDIS_URL": settings.redis_url,
    }
    return subprocess.run(
        [sys.executable, "scripts/cleanup_cron.py", *args],
        cwd=REPO,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )


def test_the_cron_script_as_a_sysadmin_runs_it(settings, redis_conn) -> None:
    store = Storage(settings.data_dir)
    store.ensure()
    old = make_job(store, redis_conn, JobStatus.FINISHED, 5, now=time.time())  # the script's clock
    dry = run_script(settings, "--dry-run", "--max-age-days", "2")
    assert dry.returncode == 0, dry.stderr
    assert f"would remove {store.result_zip(old)}" in dry.stdout
    assert "would remove 3 entries" in dry.stdout
    assert store.result_zip(old).exists()
    real = run_script(settings, "--max-age-days", "2")
    assert real.returncode == 0
    assert "removed 3 entries, freed 0.0 MB" in real.stdout
    assert not store.result_zip(old).exists()


def test_the_cron_script_fails_loudly(settings) -> None:
    bad = run_script(settings.with_overrides(redis_url="redis://127.0.0.1:9/0"))
    assert bad.returncode == 1 and "Redis unreachable" in bad.stdout
    junk = subprocess.run(
        [sys.executable, "scripts/cleanup_cron.py"],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "TRAPLINE_RESULTS_MAX_AGE_DAYS": "soon"},
    )
    assert junk.returncode == 2 and "TRAPLINE_RESULTS_MAX_AGE_DAYS" in junk.stdout


def test_a_jobs_zips_and_thumbnails_go_together(settings, redis_conn) -> None:
    """An export after review makes a fresh zip: nothing of that job goes while any of its zips
    is young, and everything goes with the last one."""
    store = Storage(settings.data_dir)
    store.ensure()
    job_id = make_job(store, redis_conn, JobStatus.FINISHED, 20)
    reports = store.reports_zip(job_id)
    reports.write_bytes(b"r" * 100)
    thumbs = store.thumbnail_dir(job_id)
    thumbs.mkdir(parents=True)
    (thumbs / "0000000.jpg").write_bytes(b"t")
    truth = store.truth_dir(job_id)  # a comparison with a large truth file, made on day 3
    truth.mkdir(parents=True)
    (truth / "report.json").write_text("{}")
    age(reports, 2)
    age(thumbs, 20)
    age(truth, 17)
    Cleaner(settings, redis_conn, dry_run=False, results_days=14, uploads_days=14, now=NOW).run()
    assert store.result_zip(job_id).exists() and reports.exists() and thumbs.exists()
    assert truth.exists()
    later = NOW + 13 * DAY
    Cleaner(settings, redis_conn, dry_run=False, results_days=14, uploads_days=14, now=later).run()
    assert not store.result_zip(job_id).exists() and not reports.exists()
    assert not thumbs.exists() and not truth.exists()
    assert state_of(redis_conn, job_id).status is JobStatus.EXPIRED


def cron_line() -> str:
    """deploy/cron/trapline-cleanup's command (what cron hands to sh), checked to run daily as
    the service's user."""
    line = next(
        row
        for row in (REPO / "deploy" / "cron" / "trapline-cleanup").read_text().splitlines()
        if row and not row.startswith("#")
    )
    *when, user, command = line.split(None, 6)
    assert (when, user) == (["30", "3", "*", "*", "*"], "trapline")
    return command


def test_the_cron_lines_redirect_works_for_an_unprivileged_user() -> None:
    """cron opens the line's log before the script starts; a user like `trapline`, who cannot
    write to root's /var/log, must be able to (issue 28, item 9: the first line failed there).
    Run as `nobody` when the tests run as root (as CI does), with the script replaced by a
    marker: this checkout's Python lives where `nobody` cannot reach, and what the script does
    is the next test's."""
    data = Path(tempfile.mkdtemp(prefix="trapline-cron-"))
    try:
        env = data / "trapline.env"
        env.write_text(f"TRAPLINE_DATA_DIR={data}\n")
        command = re.sub(
            r"/opt/trapline/\.venv/bin/python /opt/trapline/scripts/cleanup_cron\.py",
            "echo cleanup ran",
            cron_line().replace("/etc/trapline/trapline.env", str(env)),
        )
        assert "echo cleanup ran" in command
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(data, "nobody", "nogroup")
            data.chmod(0o755)
            env.chmod(0o644)
            as_user = ["runuser", "-u", "nobody", "--"]
        done = subprocess.run(
            [*as_user, "sh", "-c", command], check=False, capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stderr == "", done
        log = data / "cleanup.log"
        assert log.read_text() == "cleanup ran\n"
        assert log.stat().st_uid == (65534 if as_user else os.geteuid())
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_the_cron_line_as_written(settings, redis_conn, tmp_path: Path) -> None:
    """deploy/cron/trapline-cleanup's command, with this checkout and a settings file in place
    of /opt/trapline and /etc/trapline, run by sh as cron runs it (issue 28, item 9): it removes
    an expired job and logs into the data folder, which the service's user owns."""
    command = cron_line()
    env = tmp_path / "trapline.env"
    env.write_text(
        f"TRAPLINE_DATA_DIR={settings.data_dir}\nTRAPLINE_REDIS_URL={settings.redis_url}\n"
    )
    venv_python = Path(sys.executable)
    command = (
        command.replace("/etc/trapline/trapline.env", str(env))
        .replace("/opt/trapline/.venv/bin/python", str(venv_python))
        .replace("/opt/trapline", str(REPO))
    )
    store = Storage(settings.data_dir)
    store.ensure()
    old = make_job(store, redis_conn, JobStatus.FINISHED, 30, now=time.time())  # its clock
    done = subprocess.run(["sh", "-c", command], check=False, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == done.stderr == "", done
    assert not store.result_zip(old).exists()
    log = (settings.data_dir / "cleanup.log").read_text()
    assert "removed 3 entries" in log
