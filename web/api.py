"""The JSON API used by scripts, tests and the job page's own polling."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from web import services
from web.security import RateLimited, api_key_required, check_upload_rate, rate_limited_response
from web.services import QueueUnavailable, UploadRefused

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/jobs")
@api_key_required
def create() -> Any:
    store = services.storage()
    staging = Path(tempfile.mkdtemp(prefix="api-", dir=store.drafts_root))
    try:
        email = services.clean_email(request.form.get("email"))
        choices = services.job_choices(request.form, request.files.get("deployments"))
        check_upload_rate(email)
        files = request.files.getlist("files")
        if not any(f.filename for f in files):
            raise UploadRefused("No files: send one or more photos, videos or zips as `files`.")
        staged = services.save_files(files, staging)
        state = services.create_job(staged, email, choices)
    except UploadRefused as exc:
        return jsonify(error=str(exc)), exc.status
    except RateLimited as exc:
        return rate_limited_response(exc)
    except QueueUnavailable as exc:
        return jsonify(
            error=exc.message,
            id=exc.state.id,
            page_url=url_for("jobs.page", job_id=exc.state.id, _external=True),
        ), 503
    finally:
        services.discard(staging)
    return jsonify(
        id=state.id,
        status_url=url_for("api.job_status", job_id=state.id, _external=True),
        download_url=url_for("jobs.download", job_id=state.id, _external=True),
        page_url=url_for("jobs.page", job_id=state.id, _external=True),
    ), 201


@bp.get("/jobs/<job_id>")
def job_status(job_id: str) -> Any:
    return jsonify(services.status_payload(services.job_or_404(job_id)))


@bp.post("/jobs/<job_id>/cancel")
@api_key_required
def cancel(job_id: str) -> Any:
    state = services.cancel_job(services.job_or_404(job_id))
    return jsonify(services.status_payload(state))
