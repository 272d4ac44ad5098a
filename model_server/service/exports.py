"""The export job: a finished job's outputs made again from the store, after its results were
reviewed. The annotated copies come from the job's previous zip (the work folder is gone by
then), except those whose boxes a reviewer changed, which are drawn again; the reports are
written by the same code the batch uses. The export may leave the photos out: a small zip of the
reports alone, kept beside the full one."""

from __future__ import annotations

import logging
import tempfile
import time
import zipfile
from pathlib import Path

from model_server.outputs.export import ExportTarget, write_outputs
from model_server.outputs.reviewed_copies import export_copies
from model_server.outputs.run_info import run_from_job
from model_server.service.follow_up import FollowUp, run_follow_up
from model_server.service.jobs import runtime
from shared.contract import load_state
from shared.errors import JobLost
from shared.logs import job_context
from shared.storage import Storage
from shared.store.reads import job_row

log = logging.getLogger(__name__)


def export_job(job_id: str) -> dict[str, object]:
    """RQ entry point for JobKind.EXPORT."""
    with job_context(job_id):
        return run_follow_up(job_id, export_outputs)


def export_outputs(follow_up: FollowUp) -> dict[str, object]:
    """Makes the finished job's outputs again from the store (the export job; a classify job
    after storing its suggestions), writing only while `follow_up` still owns the job."""
    job_id = follow_up.job_id
    rt = runtime()
    storage = Storage(rt.settings.data_dir)
    job = job_row(rt.store, job_id)
    zip_path = storage.result_zip(job_id)
    if job is None or job.finished_at is None or not zip_path.exists():
        log.warning("job %s: nothing to export (not finished, or its results expired)", job_id)
        return {"status": "skipped"}
    state = load_state(follow_up.redis, job_id)
    photos = state.export_photos if state is not None else True

    def progress(stage: str, done: int) -> None:
        follow_up.write(export_progress={"stage": stage, "done": done})

    run = run_from_job(job)
    quality = rt.settings.jpeg_quality
    with (
        zipfile.ZipFile(zip_path) as previous,
        tempfile.TemporaryDirectory(prefix=f"export-{job_id[:8]}-", dir=storage.work_root) as tmp,
    ):
        target = ExportTarget(
            rt.store,
            job_id,
            Path(tmp) / "reports",
            zip_path if photos else storage.reports_zip(job_id),
            rt.settings.camtrap_dp_schemas,
        )
        copies = export_copies(previous, storage.thumbnail_dir(job_id), quality)
        try:
            tally, warnings = write_outputs(
                target,
                run,
                copies if photos else None,
                may_publish=follow_up.still_owner,
                progress=progress,
            )
        except JobLost:
            log.warning("job %s: no longer finished; the export was not published", job_id)
            return {"status": "skipped"}
    summary = tally.summary(run.threshold, warnings)
    follow_up.write(summary=summary, exported_at=time.time(), export_progress={})
    log.info("job %s: exported again, %d images", job_id, tally.images)
    return {"status": "exported", **summary}
