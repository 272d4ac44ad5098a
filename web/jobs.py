"""The job page a researcher bookmarks, and the download of the finished zip."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from shared.contract import JobStatus
from shared.store.repeat_rules import suppressed_in
from shared.surveys.project_settings import fields_of
from web import job_status, resources
from web.downloads import zip_download
from web.errors import error_response
from web.species_jobs import species_context

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<job_id>")
def page(job_id: str) -> Any:
    state = job_status.job_or_404(job_id)
    finished = state.status is JobStatus.FINISHED
    species = species_context(job_id, state.options.reports_only) if finished else {}
    fields = [f.public() for f in fields_of(resources.results_store(), job_id)] if finished else []
    held = suppressed_in(resources.results_store(), job_id) if finished else {}
    return render_template(
        "job.html",
        job=job_status.status_payload(state),
        species=species,
        fields=fields,
        suppressed={"boxes": sum(held.values()), "rules": len(held)},
    )


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> Any:
    """The job page's cancel button (CSRF-protected form; the API has its own route)."""
    state = job_status.cancel_job(job_status.job_or_404(job_id))
    if request.accept_mimetypes.accept_html and not request.is_json:
        return redirect(url_for("jobs.page", job_id=state.id), code=303)
    return jsonify(job_status.status_payload(state))


@bp.get("/download/<job_id>")
def download(job_id: str) -> Any:
    """The newest export (`?what=full` or `?what=reports` picks one)."""
    state = job_status.job_or_404(job_id)
    store = resources.storage()
    zips = store.result_zips(job_id)
    what = request.args.get("what", "")
    if what in ("full", "reports"):
        wanted = store.result_zip(job_id) if what == "full" else store.reports_zip(job_id)
        zips = [p for p in zips if p == wanted]
    path = zips[0] if zips else store.result_zip(job_id)
    gone = state.status is JobStatus.FINISHED and not path.is_file()
    if state.status is JobStatus.EXPIRED or gone:
        return error_response(410, "This result has expired and was removed from the server.")
    if state.status is JobStatus.CANCELLED:
        return error_response(
            410,
            "This job was cancelled: its photos were deleted and no "
            "results were made. Please upload the photos again.",
        )
    if state.status is not JobStatus.FINISHED:
        if request.accept_mimetypes.accept_html:
            return render_template("job.html", job=job_status.status_payload(state)), 409
        return error_response(409, "The job is not finished yet.")
    kind = "-reports" if path == store.reports_zip(job_id) else ""
    filename = f"trapline-{job_id[:8]}{kind}.zip"  # ids are [A-Za-z0-9_-]: safe in a header
    return zip_download(path, filename)
