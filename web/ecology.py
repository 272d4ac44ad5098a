"""A project's ecology, for its page and for scripts: effort (trap nights, operation gaps),
relative abundance, detection histories and activity, over the uploads the caller may see.
Every answer is JSON, or CSV with `format=csv` (the layouts of the project export's files)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from markupsafe import Markup

from shared.ecology.abundance import SURVEY, abundance
from shared.ecology.activity import density_curve, overlap
from shared.ecology.camera_checks import CameraCheck
from shared.ecology.effort import DEFAULT_SILENT_DAYS
from shared.ecology.gaps import add_gap, remove_gap
from shared.ecology.histories import (
    DEFAULT_MIN_SHARE,
    DEFAULT_OCCASION_DAYS,
    detection_history,
    history_csv_rows,
)
from shared.ecology.survey import INTERVALS_MINUTES, SurveyEcology, survey_ecology
from shared.ecology.tables import Rows, abundance_rows, activity_rows, as_csv, effort_rows
from shared.ecology.timing import Timed, timed
from shared.people.errors import PeopleError
from shared.people.projects import Project
from shared.people.roles import Can
from shared.surveys.locations import locations_of
from shared.surveys.project_settings import ProjectSettings
from web import resources
from web.access import now, reviewer_name
from web.audit_trail import note
from web.camera_checks import project_checks
from web.charts.ecology import activity_curves, rai_bars
from web.charts.timeline import Lane, timelines
from web.errors import Refusal
from web.insights import svg
from web.project_scope import project_gap, survey_scope
from web.projects import camera_time, project_for
from web.request_body import body_dict

bp = Blueprint("ecology", __name__)
API = "/api/projects/<int:project_id>"


def interval_seconds(project: Project, args: Mapping[str, Any]) -> float:
    """`interval` minutes (1, 5, 30 or 60), else the project's event gap."""
    raw = args.get("interval")
    if raw in (None, ""):
        return project_gap(project, {})
    if str(raw) not in {str(m) for m in INTERVALS_MINUTES}:
        minutes = ", ".join(str(m) for m in INTERVALS_MINUTES)
        raise Refusal(f"interval is one of {minutes} minutes (or leave it out).")
    return int(str(raw)) * 60.0


def _ecology(project: Project, job_ids: list[str], args: Mapping[str, Any]) -> SurveyEcology:
    settings = ProjectSettings.from_json(project.settings)
    silent = settings.silent_days if settings.silent_days is not None else DEFAULT_SILENT_DAYS
    return survey_ecology(
        resources.results_store(),
        project.id,
        job_ids,
        interval_seconds(project, args),
        silent,
        project.utc_offset,
    )


def _survey(project_id: int, args: Mapping[str, Any]) -> tuple[Project, SurveyEcology]:
    scope = survey_scope(project_id)
    return scope.project, _ecology(scope.project, scope.job_ids, args)


def _csv(rows: Rows, name: str) -> Response:
    return Response(
        as_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _wants_csv() -> bool:
    return request.args.get("format") == "csv"


@bp.get(f"{API}/effort")
def effort(project_id: int) -> Any:
    project, found = _survey(project_id, request.args)
    if _wants_csv():
        return _csv(effort_rows(found), f"effort-project-{project.id}")
    places = sorted(found.effort.values(), key=lambda e: e.name)
    return jsonify(
        project=project.id,
        locations=[e.public() for e in places],
        trap_nights=round(sum(e.days for e in places), 4),
    )


@bp.post(f"{API}/locations/<int:location_id>/gaps")
def add_operation_gap(project_id: int, location_id: int) -> Any:
    """A reviewer's "not working from ... to ..." for one location (camera clock)."""
    project, _, _ = project_for(project_id, Can.REVIEW)
    store = resources.results_store()
    if location_id not in {loc.id for loc in locations_of(store, project.id)}:
        raise Refusal("This project has no such location.", 404)
    body = body_dict()
    start, end = camera_time(body.get("start")), camera_time(body.get("end"))
    if start is None or end is None:
        raise Refusal("An operation gap needs its start and end.")
    try:
        gap = add_gap(
            store,
            project.id,
            location_id,
            start,
            end,
            str(body.get("reason") or ""),
            by=reviewer_name(""),
            now=now(),
        )
    except PeopleError as exc:
        raise Refusal(str(exc)) from None
    note(project.id, "gap:add", {"location": location_id, **gap.public()})
    return jsonify({**gap.public(), "location": location_id}), 201


@bp.delete(f"{API}/gaps/<int:gap_id>")
def remove_operation_gap(project_id: int, gap_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.REVIEW)
    if not remove_gap(
        resources.results_store(), project.id, gap_id, by=reviewer_name(""), now=now()
    ):
        raise Refusal("This project has no such operation gap.", 404)
    note(project.id, "gap:remove", {"gap": gap_id})
    return jsonify(removed=gap_id)


@bp.get(f"{API}/abundance")
def relative_abundance(project_id: int) -> Any:
    project, found = _survey(project_id, request.args)
    rows = abundance(found.detections, found.effort)
    minutes = found.interval_seconds / 60
    if _wants_csv():
        return _csv(abundance_rows(rows, minutes), f"abundance-project-{project.id}")
    return jsonify(
        project=project.id, independence_minutes=minutes, rows=[r.public() for r in rows]
    )


def _positive(args: Mapping[str, Any], name: str, default: float, high: float) -> float:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(str(raw))
    except ValueError:
        raise Refusal(f"{name} is a number.") from None
    if not (math.isfinite(value) and 0 < value <= high):
        raise Refusal(f"{name} is more than 0 and at most {high:g}.")
    return value


@bp.get(f"{API}/detection-history")
def history(project_id: int) -> Any:
    project, found = _survey(project_id, request.args)
    species = str(request.args.get("species") or "").strip()
    if not species:
        named = sorted({d.species for d in found.detections})
        raise Refusal("Name the species (species=...).", species=named)
    settings = ProjectSettings.from_json(project.settings)
    default = settings.occasion_days or DEFAULT_OCCASION_DAYS
    days = _positive(request.args, "occasion_days", default, 366)
    if days != int(days):
        raise Refusal("occasion_days is a whole number of days.")
    share = _positive(request.args, "min_share", DEFAULT_MIN_SHARE, 1)
    made = detection_history(found.detections, found.effort, species, int(days), share)
    if _wants_csv():
        matrix = "effort" if request.args.get("matrix") == "effort" else "detected"
        return _csv(history_csv_rows(made, matrix), f"{matrix}-{project.id}")
    return jsonify(
        project=project.id,
        species=species,
        occasion_days=made.occasion_days,
        min_share=share,
        occasions=[s.isoformat() for s in made.starts()],
        locations=made.locations,
        detected=made.detected,
        effort=made.effort,
    )


def _clock(args: Mapping[str, Any]) -> str:
    clock = str(args.get("clock") or "sun")
    if clock not in ("sun", "clock"):
        raise Refusal("clock is sun or clock.")
    return clock


@bp.get(f"{API}/activity")
def activity(project_id: int) -> Any:
    """Event times (all, or of `species`), the density of each named species, and the overlap
    of `species` and `compare` on the chosen clock."""
    project, found = _survey(project_id, request.args)
    species = str(request.args.get("species") or "") or None
    rows = timed(found, species)
    if _wants_csv():
        return _csv(activity_rows(rows), f"activity-project-{project.id}")
    clock = _clock(request.args)
    answer: dict[str, Any] = {
        "project": project.id,
        "clock": clock,
        "events": [t.public() for t in rows],
    }
    compare = str(request.args.get("compare") or "")
    if species and compare:
        a, b = _hours(rows, clock), _hours(timed(found, compare), clock)
        found_overlap = overlap(a, b)
        answer["overlap"] = (
            None
            if found_overlap is None
            else {
                "species": [species, compare],
                "estimator": found_overlap.estimator,
                "value": round(found_overlap.value, 4),
                "events": [len(a), len(b)],
            }
        )
    return jsonify(answer)


def _hours(rows: list[Timed], clock: str) -> list[float]:
    if clock == "clock":
        return [t.clock_hours for t in rows]
    return [t.sun_hours for t in rows if t.sun_hours is not None]


def lanes(found: SurveyEcology, checks: list[CameraCheck]) -> list[Lane]:
    """The timeline's lanes: each location's periods, gaps and dated findings."""
    by_location = {c.location_id: c for c in checks}
    made = []
    for e in sorted(found.effort.values(), key=lambda e: e.name):
        check = by_location.get(e.location_id)
        findings = []
        for f in check.findings if check is not None else []:
            if f.start is not None:
                findings.append((f.start, f.end or f.start, f.text))
        made.append(
            Lane(
                e.name,
                [
                    (p.start, p.end, f"deployed {p.start:%Y-%m-%d} to {p.end:%Y-%m-%d}")
                    for p in e.periods
                ],
                [(g.start, g.end, f"not working: {g.reason}") for g in e.gaps],
                findings,
            )
        )
    return made


@bp.get("/projects/<int:project_id>/ecology")
def page(project_id: int) -> Any:
    scope = survey_scope(project_id)
    project = scope.project
    found = _ecology(project, scope.job_ids, request.args)
    rows = abundance(found.detections, found.effort)
    found_checks = project_checks(project, scope.job_ids)
    return render_template(
        "ecology.html",
        project=project,
        effort=sorted(found.effort.values(), key=lambda e: e.name),
        total=sum(e.days for e in found.effort.values()),
        survey=[r for r in rows if r.location == SURVEY],
        minutes=found.interval_seconds / 60,
        intervals=INTERVALS_MINUTES,
        species=sorted({d.species for d in found.detections}),
        checks=[c.public() for c in found_checks],
        timeline=Markup(timelines(lanes(found, found_checks))),
        can_manage=Can.MANAGE in scope.can,
        can_review=Can.REVIEW in scope.can,
    )


@bp.get("/projects/<int:project_id>/ecology/<name>.svg")
def chart(project_id: int, name: str) -> Any:
    _, found = _survey(project_id, request.args)
    species = str(request.args.get("species") or "")
    if name == "rai" and species:
        rows = [
            (r.location, r.rai)
            for r in abundance(found.detections, found.effort)
            if r.species == species and r.location != SURVEY
        ]
        return svg(rai_bars(species, rows))
    if name == "activity":
        clock = _clock(request.args)
        named = [s for s in (species, str(request.args.get("compare") or "")) if s]
        curves = []
        every = timed(found)  # each location's sun worked out once for all the species
        for each in named or sorted({d.species for d in found.detections}):
            points = density_curve(_hours([t for t in every if t.species == each], clock))
            if points is not None:
                curves.append((each, points))
        axis = "Sun time (sunrise 06, sunset 18)" if clock == "sun" else "Camera clock (hours)"
        return svg(activity_curves(f"Activity of {', '.join(n for n, _ in curves)}", curves, axis))
    raise Refusal("No such chart.", 404)
