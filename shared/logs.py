"""One log format for both processes, to stdout, with the job id on every line logged while a
job runs, so `journalctl -u trapline-worker@1 | grep <id>` tells one job's whole story."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FORMAT = "%(asctime)s %(levelname)s job=%(job)s %(name)s: %(message)s"
current_job: ContextVar[str] = ContextVar("current_job", default="-")


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "job"):
            record.job = current_job.get()
        return True


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    token = current_job.set(job_id)
    try:
        yield
    finally:
        current_job.reset(token)


def configure_logging(level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(JobIdFilter())
    logging.basicConfig(
        level=(level or os.environ.get("TRAPLINE_LOG_LEVEL", "INFO")).upper(),
        handlers=[handler],
        force=True,
    )
