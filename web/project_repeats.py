"""A project's suspected repeated false alarms: each registered location's boxes over every card
the caller may see (a branch seen on card after card is one group), as JSON and as the
Repeats page; a group rejected or kept card by card under one undo token."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for

from shared.people.projects import Project
from shared.people.roles import Can
from shared.people.users import User
from shared.store.group_review import judge_group
from shared.store.repeat_data import RepeatGroup, project_repeats
from web import resources
from web.access import login_manager, now, signed_in
from web.errors import Refusal
from web.project_scope import project_gap, visible_jobs
from web.projects import project_for
from web.repeats import SHOWN, page_groups, remember, rule_strips

bp = Blueprint("project_repeats", __name__)


def _groups(project: Project, jobs: list[str], gap: float) -> list[RepeatGroup]:
    return project_repeats(
        resources.results_store(),
        project.id,
        jobs,
        resources.settings().repeat_rules(),
        gap_seconds=gap,
        now=now(),
    )


@bp.get("/api/projects/<int:project_id>/repeats")
def repeat_groups(project_id: int) -> Any:
    """Suspected repeated false alarms at each location, over every card the caller may see."""
    project, role, user = project_for(project_id, Can.READ_OWN)
    gap = project_gap(project, request.args)
    found = _groups(project, visible_jobs(project.id, role, user), gap)
    rules = resources.settings().repeat_rules()
    return jsonify(
        project=project.id, event_gap=gap, rules=asdict(rules), groups=[g.public() for g in found]
    )


@bp.get("/projects/<int:project_id>/repeats")
def page(project_id: int) -> Any:
    """The project's Repeats page: the job page's, over every card of each location."""
    if signed_in() is None:
        return login_manager.unauthorized()
    project, role, user = project_for(project_id, Can.READ_OWN)
    gap = project_gap(project, request.args)
    found = _groups(project, visible_jobs(project.id, role, user), gap)
    rules = resources.settings().repeat_rules()
    return render_template(
        "repeats.html",
        heading=project.name,
        back_url=url_for("projects.page", project_id=project.id),
        reviews_url=url_for("project_results.review", project_id=project.id),
        undoable_url=url_for("project_results.undoable_reviews", project_id=project.id),
        threshold="each card's threshold",
        terms={"event_gap": gap, "rules": asdict(rules)},
        groups=page_groups(found, lambda group, box_id: group.job_of(box_id)),
        shown=SHOWN,
        rules=rule_strips(project.id, visible_jobs(project.id, role, user), every=True),
    )


def judge_project_group(
    project: Project, user: User, action: str, group: Any, reviewer: str
) -> dict[str, Any]:
    """reject_group or keep_group on one of the project's suspected repeats (over every card:
    a reviewer sees them all), card by card; the answer's `batch` undoes it all."""
    gap = project_gap(project, {})
    found = _groups(project, visible_jobs(project.id, None, user), gap)
    wanted = str(group or "")
    chosen = next((g for g in found if g.id == wanted), None)
    if chosen is None:
        raise Refusal(f"This project has no suspected repeat {wanted!r}.", 404)
    engine = resources.results_store()
    parts = {
        job_id: judge_group(engine, job_id, action, chosen.id, boxes, reviewer, now(), user.id)
        for job_id, boxes in sorted(chosen.boxes_by_job().items())
    }
    token = ",".join(f"{j}:{p['batch']}" for j, p in parts.items())
    return {
        "batch": token,
        "rule": remember(chosen, action, token, reviewer),
        "group": chosen.id,
        "images": sum(p["images"] for p in parts.values()),
        "boxes": sum(p["boxes"] for p in parts.values()),
        "rescued": sum(p["rescued"] for p in parts.values()),
        "uploads": len(parts),
    }
