"""The JSON API used by scripts, tests and the job page's own polling."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from web import intake, resources
from web.errors import Refusal
from web.job_status import cancel_job, job_or_404, status_payload
from web.security import check_upload_rate

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/jobs")
def create() -> Any:
    store = resources.storage()
    staging = Path(tempfile.mkdtemp(prefix="api-", dir=store.drafts_root))
    try:
        project_id = intake.target_project(request.form)
        email = intake.upload_email(request.form.get("email"))
        options = intake.job_options(request.form, request.files.get("deployments"))
        check_upload_rate(email)
        files = request.files.getlist("files")
        if not any(f.filename for f in files):
            raise Refusal("No files: send one or more photos, videos or zips as `files`.")
        staged = intake.save_files(files, staging)
        state = intake.create_job(
            staged, email, options, project_id, intake.chosen_location(request.form, project_id)
        )
    finally:
        intake.discard(staging)
    return jsonify(
        id=state.id,
        project=project_id,
        status_url=url_for("api.job_status", job_id=state.id, _external=True),
        download_url=url_for("jobs.download", job_id=state.id, _external=True),
        page_url=url_for("jobs.page", job_id=state.id, _external=True),
    ), 201


@bp.get("/jobs/<job_id>")
def job_status(job_id: str) -> Any:
    return jsonify(status_payload(job_or_404(job_id)))


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> Any:
    state = cancel_job(job_or_404(job_id))
    return jsonify(status_payload(state))
