"""The evaluation job (JobKind.EVALUATE): a finished job's detections compared with a truth file
too large to compare in a web request. The files are read from disk as streams; the report, or
why the truth could not be read, is written for the job's Accuracy page, and the files go."""

from __future__ import annotations

import logging

from model_server.service.follow_up import FollowUp, run_follow_up
from model_server.service.jobs import runtime
from shared.contract import load_state
from shared.errors import TruthError
from shared.evaluation.stored_truth import load_request, write_report
from shared.evaluation.truth_files import read_truth_paths
from shared.logs import job_context
from shared.storage import Storage
from shared.store.evaluation_data import job_against_truth

log = logging.getLogger(__name__)


def evaluate_job(job_id: str) -> dict[str, object]:
    """RQ entry point for JobKind.EVALUATE."""
    with job_context(job_id):
        return run_follow_up(job_id, evaluate_stored_truth)


def evaluate_stored_truth(follow_up: FollowUp) -> dict[str, object]:
    rt = runtime()
    job_folder = Storage(rt.settings.data_dir).truth_dir(follow_up.job_id)
    state = load_state(follow_up.redis, follow_up.job_id)
    request = load_request(job_folder, state.truth if state is not None else "")
    if request is None:
        log.warning("job %s: the truth files to compare are gone", follow_up.job_id)
        return {"status": "skipped"}
    follow_up.write(export_progress={"stage": "evaluate", "done": 0})
    try:
        truth = read_truth_paths(request.paths, rt.settings.max_truth_bytes)
        report = job_against_truth(rt.store, follow_up.job_id, truth, request.options)
        report["truth"]["uploaded"] = sorted(request.names)
    except TruthError as exc:
        report = {"error": str(exc)}
    if not follow_up.still_owner():  # stalled past its lease: another attempt writes it
        log.warning("job %s: the evaluation is no longer this server's", follow_up.job_id)
        return {"status": "skipped"}
    write_report(job_folder, request, report)
    log.info(
        "job %s: compared with %s",
        follow_up.job_id,
        ", ".join(request.names) + (f" (not read: {report['error']})" if "error" in report else ""),
    )
    return {"status": "failed" if "error" in report else "evaluated"}
