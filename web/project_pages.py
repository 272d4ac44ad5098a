"""A project's pages in the browser beside its gallery: accuracy (the job accuracy page's figures
over every reviewed image of every card, with the same options) and the season's events."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from shared.people.roles import Can
from web.access import login_manager, signed_in
from web.charts.curves import precision_recall
from web.errors import Refusal
from web.project_results import event_listing, newest_threshold, project_evaluation
from web.project_scope import visible_jobs
from web.projects import project_for

bp = Blueprint("project_pages", __name__)


@bp.get("/projects/<int:project_id>/accuracy")
def accuracy(project_id: int) -> Any:
    if signed_in() is None:
        return login_manager.unauthorized()
    project, role, user = project_for(project_id, Can.READ_OWN)
    error = ""
    try:
        review = project_evaluation(project.id, role, user, request.args)
    except Refusal as exc:  # the page says why, with the defaults
        error = exc.message
        review = project_evaluation(project.id, role, user, {})
    newest = newest_threshold(visible_jobs(project.id, role, user))
    return render_template(
        "project_accuracy.html",
        project=project,
        review=review,
        options=review["options"],
        newest=newest,
        charts={"review": precision_recall(review["curves"])},
        error=error,
    ), 400 if error else 200


EVENTS_PER_PAGE = 100


@bp.get("/projects/<int:project_id>/events")
def events(project_id: int) -> Any:
    """The season's independent events, a location and a page at a time: an event can span two
    cards (the last photo of one visit's card and the first of the next)."""
    if signed_in() is None:
        return login_manager.unauthorized()
    project, role, user = project_for(project_id, Can.READ_OWN)
    listing = event_listing(project, role, user, request.args)
    where = str(request.args.get("location") or "")
    chosen = [e for e in listing["events"] if not where or e["location"] == where]
    pages = max(1, -(-len(chosen) // EVENTS_PER_PAGE))
    try:
        page = min(max(1, int(request.args.get("page") or 1)), pages)
    except ValueError:
        raise Refusal("page is a number") from None
    shown = chosen[(page - 1) * EVENTS_PER_PAGE : page * EVENTS_PER_PAGE]

    def link(number: int) -> str:
        kept = {"location": where, "event_gap": request.args.get("event_gap") or ""}
        return "?" + urlencode({**{k: v for k, v in kept.items() if v}, "page": number})

    return render_template(
        "project_events.html",
        project=project,
        listing=listing,
        location=where,
        events=shown,
        total=len(chosen),
        page=page,
        pages=pages,
        previous=link(page - 1) if page > 1 else None,
        next=link(page + 1) if page < pages else None,
    )
