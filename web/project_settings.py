"""A project's settings, changed by its owners: name, description, the cameras' UTC offset, the
defaults each card uploaded into it gets (event gap, camera folder level, class set) and what
its Camtrap DP package says about the survey. `PATCH /api/projects/<id>` for scripts, the
project page's form for people; every change goes into the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request, url_for

from shared.people.errors import PeopleError
from shared.people.projects import Project, update_project
from shared.people.roles import Can
from shared.surveys.project_settings import ProjectSettings, changed
from web import resources
from web.audit_trail import note
from web.classes import usable_set
from web.errors import Refusal
from web.projects import project_for

bp = Blueprint("project_settings", __name__)
COLUMNS = ("name", "description", "utc_offset")


def public(project: Project) -> dict[str, Any]:
    return {**project.public(), "settings": ProjectSettings.from_json(project.settings).to_json()}


def _change(project: Project, body: dict[str, Any]) -> Project:
    current = ProjectSettings.from_json(project.settings)
    try:
        settings = changed(current, body)
        if settings.class_set and usable_set(settings.class_set, project.id) is None:
            raise PeopleError(f"There is no class set named {settings.class_set!r}; see /classes.")
        columns = {k: str(body[k] or "") for k in COLUMNS if k in body}
        done = update_project(
            resources.results_store(), project.id, settings=settings.to_json(), **columns
        )
    except PeopleError as exc:
        raise Refusal(str(exc)) from None
    assert done is not None  # project_for found it
    before, after = public(project), public(done)
    fields = [k for k in COLUMNS if before[k] != after[k]]
    fields += [k for k, v in after["settings"].items() if before["settings"].get(k) != v]
    if fields:
        note(project.id, "settings", {"changed": ", ".join(sorted(fields))})
    return done


@bp.patch("/api/projects/<int:project_id>")
def api_change(project_id: int) -> Any:
    """JSON with any of name, description, utc_offset, event_gap, deployment_level, class_set,
    title, contributors, licence, sampling_design, capture_method (blank clears a setting)."""
    project, _, _ = project_for(project_id, Can.MANAGE)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refusal("Send a JSON object.")
    return jsonify(public(_change(project, body)))


@bp.post("/projects/<int:project_id>/settings")
def page_change(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    back = url_for("projects.page", project_id=project_id)
    body: dict[str, Any] = request.form.to_dict()
    body.pop("csrf_token", None)
    body["capture_method"] = request.form.getlist("capture_method")
    try:
        _change(project, body)
    except Refusal as exc:
        raise Refusal(exc.message, exc.status, page=back) from None
    flash("Settings saved.", "ok")
    return redirect(back, code=303)
