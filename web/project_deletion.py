"""An owner deletes a project: `DELETE /api/projects/<id>` with `{"confirm": "<its name>"}`, or
the project page's form where the name is typed again. Refused (409) while any of its uploads
is queued or running, or while a follow-up (export, classify, the project's export) waits or
runs. Each finished upload is first marked expired in Redis, in the guarded step the cleanup
uses, so no follow-up can be queued on it meanwhile; then the database forgets the project in
one transaction, then its files and live records go."""

from __future__ import annotations

import logging
import shutil
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request, url_for

from shared.contract import JobStatus, load_states, transition
from shared.job_record import RECENT_KEY, UNFINISHED_KEY, state_key
from shared.people.projects import Project, job_ids_of
from shared.people.roles import Can
from shared.surveys.project_exports import ExportStatus, export_record, forget_export
from shared.surveys.project_removal import delete_project
from web import resources
from web.access import now
from web.errors import Refusal
from web.projects import project_for
from web.request_body import body_fields

bp = Blueprint("project_deletion", __name__)
log = logging.getLogger(__name__)
LIVE = (JobStatus.QUEUED, JobStatus.PROCESSING)


def _busy(project: Project, job_ids: list[str]) -> str:
    """Why the project cannot go now ("" when it can)."""
    r = resources.redis()
    live = [s for s in load_states(r, job_ids) if s.status in LIVE or s.follow_up]
    if live:
        return (
            f"{len(live)} of its uploads are still queued or running (or have an export or a "
            "classify under way); cancel them or wait, then delete the project."
        )
    if ExportStatus(export_record(r, project.id)).busy:
        return "The project's export is under way; wait for it, then delete the project."
    return ""


def remove(project: Project, confirm: str) -> dict[str, Any]:
    if confirm.strip() != project.name:
        raise Refusal("Type the project's name exactly to delete it (`confirm`).", 400)
    engine, r, storage = resources.results_store(), resources.redis(), resources.storage()
    job_ids = job_ids_of(engine, project.id)
    why = _busy(project, job_ids)
    if why:
        raise Refusal(why, 409)
    for job_id in job_ids:  # no follow-up can be queued on an expired job
        transition(
            r, job_id, (JobStatus.FINISHED,), fence={"follow_up": ""}, status=JobStatus.EXPIRED
        )
    removed = delete_project(engine, project.id, now=now())
    if removed is None:
        raise Refusal("There is no such project any more.", 404)
    for job_id in removed.job_ids:
        storage.remove_job_files(job_id)
        for path in storage.result_zips(job_id):
            path.unlink(missing_ok=True)
        shutil.rmtree(storage.thumbnail_dir(job_id), ignore_errors=True)
        r.delete(state_key(job_id))
        r.zrem(RECENT_KEY, job_id)
        r.hdel(UNFINISHED_KEY, job_id)
    for set_id in removed.class_set_ids:
        shutil.rmtree(storage.class_set_dir(set_id), ignore_errors=True)
    storage.project_zip(project.id).unlink(missing_ok=True)
    forget_export(r, project.id)
    log.warning(
        "project %d (%s) deleted with %d uploads and %d class sets",
        project.id,
        project.name,
        len(removed.job_ids),
        len(removed.class_set_ids),
    )
    return {"deleted": project.id, "uploads": len(removed.job_ids)}


@bp.delete("/api/projects/<int:project_id>")
def api_delete(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    body = body_fields()
    return jsonify(remove(project, str(body.get("confirm") or "")))


@bp.post("/projects/<int:project_id>/delete")
def page_delete(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    back = url_for("projects.page", project_id=project.id)
    try:
        done = remove(project, str(request.form.get("confirm") or ""))
    except Refusal as exc:
        raise Refusal(exc.message, exc.status, page=back) from None
    flash(f"The project '{project.name}' and its {done['uploads']} upload(s) were deleted.", "ok")
    return redirect(url_for("projects.index"), code=303)
