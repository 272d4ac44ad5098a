"""Removes old uploads, work folders, result zips and thumbnails with the jobs' rows in the
results database, and marks those jobs expired in Redis.

Only entries named like a job id (or `<id>.zip`) directly under the data folder's own
sub-folders are considered; symbolic links are removed as links, never followed; uploads of
jobs still queued or running are kept whatever their age, because losing a researcher's batch
is worse than a full disk.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from shared.contract import JobStatus, load_state, transition
from shared.logs import configure_logging
from shared.settings import Settings, settings_for_command
from shared.storage import Storage, is_job_id
from shared.store import open_configured_store
from shared.store.reads import ended_before
from shared.store.writes import delete_job, record_ended

log = logging.getLogger("trapline.cleanup")
DAY = 86400.0


@dataclass
class Report:
    removed: int = 0
    bytes_freed: int = 0
    kept_active: int = 0
    errors: list[str] = field(default_factory=list)
    would_remove: list[str] = field(default_factory=list)


def _size(path: Path) -> int:
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size
    total = 0
    for root, dirs, files in os.walk(path, followlinks=False):
        for name in files + dirs:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                pass
    return total


def _age_days(path: Path, now: float) -> float:
    return (now - path.lstat().st_mtime) / DAY


def _job_id_of(path: Path) -> str | None:
    """`<id>`, `<id>.zip`, or `.<id>.zip.partial` (a zip being written, or left by a crash)."""
    name = path.name
    if name.startswith(".") and name.endswith(".zip.partial"):
        name = name[1:].removesuffix(".zip.partial")
    name = name.removesuffix(".zip").removesuffix(".reports")
    return name if is_job_id(name) else None


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


class Cleaner:
    def __init__(
        self,
        settings: Settings,
        redis: Redis | None,
        *,
        dry_run: bool,
        results_days: float,
        uploads_days: float,
        now: float | None = None,
        store: Engine | None = None,
    ) -> None:
        self.storage = Storage(settings.data_dir)
        self.redis, self.dry_run, self.store = redis, dry_run, store
        self.results_days, self.uploads_days = results_days, uploads_days
        self.now = now or time.time()
        self.report = Report()

    def _active(self, job_id: str) -> bool:
        if self.redis is None:
            return True  # without Redis we cannot tell: keep it
        state = load_state(self.redis, job_id)
        # a follow-up (export, classify) reads the job's results: they stay while it waits or runs
        return state is not None and (
            state.status in (JobStatus.QUEUED, JobStatus.PROCESSING) or bool(state.follow_up)
        )

    def _expire(self, job_id: str) -> bool:
        """Marks a finished job expired before any of its results go, in one guarded step that
        only succeeds while no follow-up (export, classify) waits or runs on it: once expired,
        none can be queued. False when a follow-up holds the results (they stay this time)."""
        if self.redis is None or self.dry_run:
            return True
        if transition(
            self.redis,
            job_id,
            (JobStatus.FINISHED,),
            fence={"follow_up": ""},
            status=JobStatus.EXPIRED,
        ):
            return True
        state = load_state(self.redis, job_id)
        if state is not None and state.follow_up:
            self.report.kept_active += 1
            log.info(
                "kept the results of job %s: its %s waits or runs",
                job_id,
                state.follow_up_kind or "follow-up",
            )
            return False
        return True

    def _results_kept(self, job_id: str, entry: Path) -> bool:
        """A job's results go as one: none of it while any of its zips is younger than the
        limit (an export after review makes a fresh one)."""
        return any(
            _age_days(p, self.now) <= self.results_days
            for p in self.storage.result_zips(job_id)
            if p != entry
        )

    def _forget(self, job_id: str) -> None:
        """A job whose results are gone loses its other zips, its thumbnails, its truth
        comparisons and its rows (one transaction)."""
        for path in self.storage.result_zips(job_id):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.storage.thumbnail_dir(job_id), ignore_errors=True)
        shutil.rmtree(self.storage.truth_dir(job_id), ignore_errors=True)
        if self.store is not None:
            if delete_job(self.store, job_id):
                log.info("removed the stored results of job %s", job_id)
            record_ended(self.store, job_id, "expired", datetime.fromtimestamp(self.now, UTC))

    def _sweep_rows(self) -> None:
        """Rows of jobs that ended longer ago than the results are kept, whose files were
        already gone (removed by hand, or by a cleanup that ran without the database)."""
        if self.store is None:
            return
        cutoff = datetime.fromtimestamp(self.now - self.results_days * DAY, UTC)
        for job_id in ended_before(self.store, cutoff):
            if not is_job_id(job_id) or self.storage.result_zip(job_id).exists():
                continue
            if self._active(job_id):
                continue
            if self.dry_run:
                self.report.would_remove.append(f"database rows of job {job_id}")
                continue
            try:
                if not self._expire(job_id):
                    continue
                self._forget(job_id)
                self.report.removed += 1
            except (RedisError, SQLAlchemyError) as exc:
                self.report.errors.append(f"job {job_id}: {exc}")
                log.error("could not remove the stored results of job %s: %s", job_id, exc)

    def _sweep(self, folder: Path, max_days: float, *, results: bool) -> None:
        if not folder.is_dir() or folder.is_symlink():
            return
        for entry in sorted(folder.iterdir()):
            job_id = _job_id_of(entry)
            try:
                if job_id is None or _age_days(entry, self.now) <= max_days:
                    continue
                if results and self._results_kept(job_id, entry):
                    continue
                if not results and self._active(job_id):
                    self.report.kept_active += 1
                    log.info("kept %s: its job is still queued or running", entry)
                    continue
                size = _size(entry)
                if self.dry_run:
                    self.report.would_remove.append(str(entry))
                    print(f"would remove {entry} ({size:,} bytes)")
                    continue
                if results and not self._expire(job_id):
                    continue
                _remove(entry)
                self.report.removed += 1
                self.report.bytes_freed += size
                if results:
                    self._forget(job_id)
            except (OSError, RedisError, SQLAlchemyError) as exc:
                self.report.errors.append(f"{entry}: {exc}")
                log.error("could not remove %s: %s", entry, exc)

    def run(self) -> Report:
        s = self.storage
        self._sweep(s.results_root, self.results_days, results=True)
        self._sweep(s.uploads_root, self.uploads_days, results=False)
        self._sweep(s.work_root, self.uploads_days, results=False)
        self._sweep(s.drafts_root, self.uploads_days, results=False)
        self._sweep(s.thumbnails_root, self.results_days, results=True)
        # truth files compared on a model server, and its report: results of their job
        self._sweep(s.truth_root, self.results_days, results=True)
        self._sweep_rows()
        return self.report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cleanup_cron.py", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="list what would be removed")
    parser.add_argument(
        "--max-age-days",
        type=float,
        help="one age for everything (default: TRAPLINE_RESULTS_MAX_AGE_DAYS and "
        "TRAPLINE_UPLOADS_MAX_AGE_DAYS, 14 days each)",
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = settings_for_command(log)
    if settings is None:
        return 2
    if args.max_age_days is not None and args.max_age_days <= 0:
        log.error("--max-age-days must be positive")
        return 2
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    redis: Redis | None = client
    try:
        client.ping()
    except RedisError as exc:
        log.error(
            "Redis unreachable (%s): uploads are kept, results are removed but their "
            "links will not say 'expired' until the next run",
            exc,
        )
        redis = None
    cleaner = Cleaner(
        settings,
        redis,
        dry_run=args.dry_run,
        results_days=args.max_age_days or settings.results_max_age_days,
        uploads_days=args.max_age_days or settings.uploads_max_age_days,
        store=open_configured_store(settings),
    )
    report = cleaner.run()
    verb = "would remove" if args.dry_run else "removed"
    count = len(report.would_remove) if args.dry_run else report.removed
    log.info(
        "cleanup: %s %d entries, freed %.1f MB, kept %d of active jobs, %d errors",
        verb,
        count,
        report.bytes_freed / 1e6,
        report.kept_active,
        len(report.errors),
    )
    return 1 if report.errors or redis is None else 0


if __name__ == "__main__":
    sys.exit(main())
