"""Projects (surveys): the list of one's projects, a project's page (its uploads, members and
audit log) and the same through the JSON API. Every view checks the caller's role on the server;
a project the caller may not see is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required

from shared.contract import load_states
from shared.people import audit
from shared.people.errors import PeopleError
from shared.people.projects import (
    Project,
    create_project,
    job_ids_of,
    members,
    project_by_id,
    projects_of,
    remove_member,
    role_of,
    set_member,
)
from shared.people.roles import Can, Role, parse_role
from shared.people.users import User, user_by_id, user_by_name
from shared.store.class_sets import list_sets
from shared.surveys.locations import add_location, checked, locations_of
from shared.surveys.periods import edit_period, periods_of, sync_periods
from shared.surveys.project_settings import (
    CAPTURE_METHODS,
    SAMPLING_DESIGNS,
    ProjectSettings,
)
from web import resources
from web.access import LOGIN_NEEDED, login_manager, now, signed_in
from web.audit_trail import note
from web.errors import Refusal, error_response
from web.request_body import body_dict, text_field

bp = Blueprint("projects", __name__)
NOT_HERE = "There is no such project, or you are not one of its members."


def project_for(project_id: int, need: Can) -> tuple[Project, Role | None, User]:
    """The project, the caller's role in it and the caller, if they may do `need` there:
    Refusal 401 before logging in, 404 for a project they do not belong to, 403 for a member
    whose role does not allow it."""
    user = signed_in()
    if user is None:
        raise Refusal(LOGIN_NEEDED, 401)
    store = resources.results_store()
    project = project_by_id(store, project_id)
    role = role_of(store, project_id, user.id) if project is not None else None
    if project is None or (role is None and not user.site_admin):
        raise Refusal(NOT_HERE, 404)
    if not user.site_admin and need not in (role.can if role else frozenset()):
        raise Refusal(
            f"Your role in this project ({role.value if role else '-'}) does not allow this.", 403
        )
    return project, role, user


def _jobs(project_id: int, role: Role | None, user: User) -> list[dict[str, Any]]:
    """The project's uploads a caller may see: all of them, or an uploader's own."""
    mine = role is not None and Can.READ not in role.can and not user.site_admin
    ids = job_ids_of(resources.results_store(), project_id, uploader_id=user.id if mine else None)
    states = {s.id: s for s in load_states(resources.redis(), ids)}
    listed = []
    for job_id in ids:
        state = states.get(job_id)
        listed.append(
            {
                "id": job_id,
                "status": state.status.value if state else "ended",
                "images": state.total if state else None,
                "created_at": state.created_at if state else None,
                "page_url": url_for("jobs.page", job_id=job_id, _external=True),
            }
        )
    return listed


def _member(body: dict[str, Any]) -> tuple[User, Role]:
    name = str(body.get("user", "")).strip()
    user = user_by_name(resources.results_store(), name)
    if user is None:
        raise Refusal(f"There is no user called {name!r}; a site admin makes accounts.", 404)
    try:
        return user, parse_role(str(body.get("role", "")))
    except PeopleError as exc:
        raise Refusal(str(exc)) from None


def _set_member(project: Project, body: dict[str, Any]) -> tuple[User, Role, bool]:
    user, role = _member(body)
    try:
        added = set_member(resources.results_store(), project.id, user, role, now=now())
    except PeopleError as exc:
        raise Refusal(str(exc), 409) from None
    note(
        project.id,
        "member:add" if added else "member:role",
        {"user": user.name, "role": role.value},
    )
    return user, role, added


def _new_project(body: dict[str, Any], user: User) -> Project:
    try:
        project = create_project(
            resources.results_store(),
            text_field(body, "name"),
            user,
            now=now(),
            description=text_field(body, "description"),
            utc_offset=text_field(body, "utc_offset"),
        )
    except PeopleError as exc:
        raise Refusal(str(exc)) from None
    note(project.id, "project:create", {"name": project.name})
    return project


# ---- pages


@bp.get("/projects")
@login_required
def index() -> Any:
    user = signed_in()
    assert user is not None
    listed = projects_of(resources.results_store(), user)
    return render_template("projects.html", projects=listed, user=user)


@bp.post("/projects")
@login_required
def create_page() -> Any:
    user = signed_in()
    assert user is not None
    try:
        project = _new_project(request.form.to_dict(), user)
    except Refusal as exc:
        flash(exc.message, "error")
        return redirect(url_for("projects.index"), code=303)
    return redirect(url_for("projects.page", project_id=project.id), code=303)


@bp.get("/projects/<int:project_id>")
def page(project_id: int) -> Any:
    if signed_in() is None:
        return login_manager.unauthorized()
    project, role, user = project_for(project_id, Can.READ_OWN)
    store = resources.results_store()
    manage = user.site_admin or (role is not None and Can.MANAGE in role.can)
    reads = user.site_admin or (role is not None and Can.READ in role.can)
    from web.project_exports import export_status  # it checks roles with this module's code

    return render_template(
        "project.html",
        export=export_status(project.id) if reads else None,
        can_export=user.site_admin or (role is not None and Can.REVIEW in role.can),
        class_sets=[row.name for row, classes in list_sets(store, [project.id]) if classes],
        project=project,
        role=role,
        manage=manage,
        can_upload=user.site_admin or (role is not None and Can.UPLOAD in role.can),
        jobs=_jobs(project.id, role, user),
        members=members(store, project.id),
        locations=_locations(project.id),
        log=audit.entries(store, project.id, limit=50)
        if manage or (role and Can.READ in role.can)
        else [],
        roles=[r.value for r in Role],
        settings=ProjectSettings.from_json(project.settings),
        designs=SAMPLING_DESIGNS,
        methods=CAPTURE_METHODS,
    )


@bp.post("/projects/<int:project_id>/members")
def member_page(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    back = url_for("projects.page", project_id=project_id)
    try:
        user, role, added = _set_member(project, request.form.to_dict())
    except Refusal as exc:
        raise Refusal(exc.message, exc.status, page=back) from None
    article = "an" if role in (Role.OWNER, Role.UPLOADER) else "a"
    flash(f"{user.name} is {'now' if added else 'from now on'} {article} {role.value}.", "ok")
    return redirect(back, code=303)


@bp.post("/projects/<int:project_id>/members/<int:user_id>/remove")
def remove_page(project_id: int, user_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    back = url_for("projects.page", project_id=project_id)
    user = user_by_id(resources.results_store(), user_id)
    if user is None:
        raise Refusal("There is no such user.", 404, page=back)
    try:
        removed = remove_member(resources.results_store(), project.id, user)
    except PeopleError as exc:
        raise Refusal(str(exc), 409, page=back) from None
    if removed:
        note(project.id, "member:remove", {"user": user.name})
    flash(f"{user.name} is no longer a member.", "ok")
    return redirect(back, code=303)


# ---- API


@bp.post("/api/projects")
def api_create() -> Any:
    user = signed_in()
    if user is None:
        return error_response(401, LOGIN_NEEDED)
    project = _new_project(body_dict(), user)
    return jsonify({**project.public(), "role": Role.OWNER.value}), 201


@bp.get("/api/projects")
def api_list() -> Any:
    user = signed_in()
    if user is None:
        return error_response(401, LOGIN_NEEDED)
    listed = projects_of(resources.results_store(), user)
    return jsonify(projects=[{**p.public(), "role": r.value if r else None} for p, r in listed])


@bp.get("/api/projects/<int:project_id>")
def api_project(project_id: int) -> Any:
    project, role, user = project_for(project_id, Can.READ_OWN)
    return jsonify(
        {
            **project.public(),
            "role": role.value if role else None,
            "jobs": _jobs(project.id, role, user),
        }
    )


@bp.get("/api/projects/<int:project_id>/members")
def api_members(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.READ)
    listed = members(resources.results_store(), project.id)
    return jsonify(members=[{"user": m.name, "role": m.role.value} for m in listed])


@bp.post("/api/projects/<int:project_id>/members")
def api_set_member(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    user, role, added = _set_member(project, body_dict())
    return jsonify(user=user.name, role=role.value), 201 if added else 200


@bp.get("/api/projects/<int:project_id>/audit")
def api_audit(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.READ)
    before = request.args.get("before", type=int)
    listed = audit.entries(resources.results_store(), project.id, limit=200, before=before)
    return jsonify(entries=[e.public() for e in listed])


# ---- locations and deployment periods


def _locations(project_id: int) -> list[dict[str, Any]]:
    """The project's locations, each with its periods (every finished card matched first)."""
    store = resources.results_store()
    sync_periods(store, project_id, now=now())
    periods = periods_of(store, project_id)
    return [
        {**loc.public(), "periods": [p.public() for p in periods.get(loc.id, [])]}
        for loc in locations_of(store, project_id)
    ]


def _add_location(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    try:
        made = add_location(resources.results_store(), project.id, checked(body), now=now())
    except PeopleError as exc:
        raise Refusal(str(exc), 409 if "already has" in str(exc) else 400) from None
    note(project.id, "location:add", {"location": made.name})
    return made.public()


@bp.get("/api/projects/<int:project_id>/deployments")
def api_deployments(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.READ)
    return jsonify(locations=_locations(project.id))


@bp.post("/api/projects/<int:project_id>/deployments")
def api_add_deployment(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    return jsonify(_add_location(project, body_dict())), 201


@bp.post("/projects/<int:project_id>/locations")
def location_page(project_id: int) -> Any:
    project, _, _ = project_for(project_id, Can.MANAGE)
    back = url_for("projects.page", project_id=project_id)
    try:
        made = _add_location(project, request.form.to_dict())
    except Refusal as exc:
        raise Refusal(exc.message, exc.status, page=back) from None
    flash(f"Location {made['name']} registered.", "ok")
    return redirect(back, code=303)


def camera_time(raw: Any) -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        raise Refusal(f"{raw!r} is not a date and time like 2027-03-01T08:00:00.") from None
    if moment.tzinfo is not None:
        raise Refusal("Give the camera's own clock time, without a UTC offset.")
    return moment


@bp.post("/api/projects/<int:project_id>/periods/<int:period_id>")
def api_edit_period(project_id: int, period_id: int) -> Any:
    """A person's start and end for one deployment period (camera clock, no offset)."""
    project, _, _ = project_for(project_id, Can.MANAGE)
    body = body_dict()
    start, end = camera_time(body.get("start")), camera_time(body.get("end"))
    try:
        if not edit_period(resources.results_store(), project.id, period_id, start, end):
            raise Refusal("This project has no such deployment period.", 404)
    except PeopleError as exc:
        raise Refusal(str(exc)) from None
    note(
        project.id,
        "period:edit",
        {"period": period_id, "start": body.get("start"), "end": body.get("end")},
    )
    return jsonify(
        id=period_id,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
    )
