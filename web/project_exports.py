"""A project's one export: queued by a reviewer (`POST /api/projects/<id>/exports`, or the
project page's button), followed on the API and the page, downloaded by anyone who may read
the whole project (`GET /api/projects/<id>/download`, the zip with `camtrap-dp/` inside)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, url_for

from shared.contract import TransitionRefused
from shared.people.projects import Project, job_ids_of
from shared.people.roles import Can
from shared.store.project_queries import finished_job_ids, project_summary
from shared.surveys.project_exports import ExportStatus, export_record, request_export
from web import resources
from web.audit_trail import note
from web.downloads import zip_download
from web.errors import Refusal
from web.projects import project_for

bp = Blueprint("project_exports", __name__)
NOTHING_YET = "The project has no finished upload yet: there is nothing to export."


def export_status(project_id: int) -> dict[str, Any]:
    """What the page and the API show: where the export stands, and the zip when one exists."""
    found = ExportStatus(export_record(resources.redis(), project_id)).public()
    path = resources.storage().project_zip(project_id)
    found["download"] = (
        {
            "url": url_for("project_exports.download", project_id=project_id, _external=True),
            "bytes": path.stat().st_size,
        }
        if path.is_file()
        else None
    )
    return found


def _queue(project: Project) -> dict[str, Any]:
    engine = resources.results_store()
    cards = finished_job_ids(engine, job_ids_of(engine, project.id))
    if not cards:
        raise Refusal(NOTHING_YET, 409)
    counts = project_summary(engine, cards)
    try:
        request_export(resources.redis(), project.id, counts["images"])
    except TransitionRefused as exc:
        raise Refusal(f"The project's export is already under way ({exc}).", 409) from None
    note(project.id, "export", {"cards": len(cards), "files": counts["images"]})
    return export_status(project.id)


@bp.post("/api/projects/<int:project_id>/exports")
def api_start(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.REVIEW)
    return jsonify({"project": project.id, **_queue(project)}), 202


@bp.get("/api/projects/<int:project_id>/exports")
def api_status(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.READ)
    return jsonify({"project": project.id, **export_status(project.id)})


@bp.post("/projects/<int:project_id>/exports")
def page_start(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.REVIEW)
    back = url_for("projects.page", project_id=project.id)
    try:
        _queue(project)
    except Refusal as exc:
        raise Refusal(exc.message, exc.status, page=back) from None
    flash("The survey's export is queued; this page shows it when it is ready.", "ok")
    return redirect(back, code=303)


def _file_name(project: Project) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", project.name).strip("-").lower() or "project"
    return f"trapline-{slug[:60]}-{project.id}.zip"


@bp.get("/api/projects/<int:project_id>/download")
def download(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.READ)
    path = resources.storage().project_zip(project.id)
    if not path.is_file():
        raise Refusal("The project has not been exported yet: ask for an export first.", 404)
    return zip_download(path, _file_name(project))
