"""The export job: a finished job's outputs made again from the store, after its results were
reviewed. The annotated copies come from the job's previous zip (the work folder is gone by
then); the reports are written by the same code the batch uses."""

from __future__ import annotations

import functools
import logging
import tempfile
import time
import zipfile
from pathlib import Path

from redis import Redis
from rq import get_current_job

from model_server.outputs.export import CopySource, ExportTarget, write_outputs
from model_server.outputs.result_zip import Source
from model_server.pipeline.run_info import run_from_job
from model_server.service.jobs import runtime
from model_server.service.redis_retry import retry_until_done
from shared.contract import JobStatus, load_state, transition
from shared.errors import JobLost
from shared.logs import job_context
from shared.storage import Storage
from shared.store.reads import job_row
from shared.store.records import MediaRecord

log = logging.getLogger(__name__)
AFTER = (JobStatus.FINISHED, JobStatus.EXPIRED, JobStatus.CANCELLED, JobStatus.FAILED)


def export_job(job_id: str) -> dict[str, object]:
    """RQ entry point for JobKind.EXPORT."""
    current = get_current_job()
    if current is None:
        raise RuntimeError("export_job runs inside an RQ worker")
    redis = current.connection
    with job_context(job_id):
        try:
            return _export(redis, job_id)
        finally:
            retry_until_done(lambda: transition(redis, job_id, AFTER, follow_up=""),
                             what="clearing the export mark")


def _previous_copies(previous: zipfile.ZipFile) -> CopySource:
    names = set(previous.namelist())

    def source(record: MediaRecord) -> Source | None:
        if not record.annotated or record.file not in names:
            return None
        return functools.partial(previous.open, record.file)

    return source


def _export(redis: Redis, job_id: str) -> dict[str, object]:
    rt = runtime()
    storage = Storage(rt.settings.data_dir)
    job = job_row(rt.store, job_id)
    zip_path = storage.result_zip(job_id)
    if job is None or job.finished_at is None or not zip_path.exists():
        log.warning("job %s: nothing to export (not finished, or its results expired)", job_id)
        return {"status": "skipped"}

    def still_finished() -> bool:
        state = load_state(redis, job_id)
        return state is not None and state.status is JobStatus.FINISHED

    run = run_from_job(job)
    with (zipfile.ZipFile(zip_path) as previous,
          tempfile.TemporaryDirectory(prefix=f"export-{job_id[:8]}-",
                                      dir=storage.work_root) as tmp):
        target = ExportTarget(rt.store, job_id, Path(tmp) / "reports", zip_path)
        try:
            tally, warnings = write_outputs(target, run, _previous_copies(previous),
                                            may_publish=still_finished)
        except JobLost:
            log.warning("job %s: no longer finished; the export was not published", job_id)
            return {"status": "skipped"}
    summary = tally.summary(run.threshold, warnings)
    transition(redis, job_id, (JobStatus.FINISHED,), summary=summary, exported_at=time.time())
    log.info("job %s: exported again, %d images", job_id, tally.images)
    return {"status": "exported", **summary}
