"""A project's camera checks, for its ecology page and for scripts: what each location's
photos say about its clock, its calendar, its exposure and its view; and the one-click clock
correction a finding offers, stored per deployment period and undoable."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify

from shared.ecology.camera_checks import CameraCheck, camera_checks
from shared.ecology.clock_fix import add_correction, undo_correction
from shared.people.errors import PeopleError
from shared.people.projects import Project
from shared.people.roles import Can
from web import resources
from web.access import now, reviewer_name
from web.audit_trail import note
from web.errors import Refusal
from web.project_scope import survey_scope
from web.projects import project_for
from web.request_body import body_dict

bp = Blueprint("camera_checks", __name__)
API = "/api/projects/<int:project_id>"


def project_checks(project: Project, job_ids: list[str]) -> list[CameraCheck]:
    """The checks over `job_ids`, their new cards already matched to locations."""
    return camera_checks(
        resources.results_store(), project.id, job_ids, project.utc_offset, now=now()
    )


@bp.get(f"{API}/camera-checks")
def checks(project_id: int) -> Any:
    """Each location's clock against the sun, its times against the calendar, its black or
    white runs and its changes of view; each finding with the gap or correction it offers."""
    scope = survey_scope(project_id)
    found = project_checks(scope.project, scope.job_ids)
    return jsonify(project=scope.project.id, locations=[c.public() for c in found])


def _shift(body: dict[str, Any]) -> timedelta:
    raw = body.get("shift_hours")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise Refusal("shift_hours is a number of hours, such as 12 or -1.")
    if not math.isfinite(raw) or abs(raw) > 50 * 366 * 24:
        raise Refusal("shift_hours is at most 50 years either way.")
    return timedelta(hours=raw)


@bp.post(f"{API}/periods/<int:period_id>/clock")
def correct_clock(project_id: int, period_id: int) -> Any:
    """Adds `shift_hours` to every capture time of one deployment period, in every survey
    output (the camera's own times are kept); undone by DELETE."""
    project, _, _ = project_for(project_id, Can.MANAGE)
    body = body_dict()
    shift = _shift(body)
    try:
        made = add_correction(
            resources.results_store(),
            project.id,
            period_id,
            shift,
            str(body.get("reason") or ""),
            by=reviewer_name(""),
            now=now(),
        )
    except PeopleError as exc:
        raise Refusal(str(exc)) from None
    if made is None:
        raise Refusal("This project has no such deployment period.", 404)
    hours = shift.total_seconds() / 3600
    note(project.id, "clock:correct", {"period": period_id, "shift_hours": hours})
    return jsonify(id=made, period=period_id, shift_hours=hours), 201


@bp.delete(f"{API}/periods/<int:period_id>/clock")
def undo_clock(project_id: int, period_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    store = resources.results_store()
    if not undo_correction(store, project.id, period_id, by=reviewer_name(""), now=now()):
        raise Refusal("This period's clock has no correction to undo.", 404)
    note(project.id, "clock:undo", {"period": period_id})
    return jsonify(period=period_id, undone=True)
