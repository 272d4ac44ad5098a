"""A project's gallery in the browser: one page of every card's media at a time, with the job
gallery's filters and orders (most uncertain first across all uploads among them) plus the
upload, location and period, drawn on the server so it works without JavaScript; and the
project's review page, the job page's gallery and viewer with every review action, run over
every card through the project's API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from shared.people.roles import Can
from shared.store.project_queries import project_media_page
from shared.store.queries import ORDERS
from shared.store.records import OUTCOMES
from shared.surveys.locations import locations_of
from shared.surveys.periods import periods_of, sync_periods
from shared.surveys.project_settings import ProjectSettings
from web import resources
from web.access import login_manager, now, signed_in
from web.project_results import project_query
from web.project_scope import sees_all, visible_jobs
from web.projects import project_for
from web.results import with_urls

bp = Blueprint("project_gallery", __name__)
PER_PAGE = 48
KEPT = ("outcome", "job", "location", "period", "order", "reviewed")  # a page link carries them
ORDER_NAMES = {
    "path": "upload order",
    "captured": "capture time",
    "confidence": "most confident first",
    "uncertain": "most uncertain first",
}


def _places(project_id: int) -> list[dict[str, Any]]:
    """The locations with their periods, for the filters (a period named by its span)."""
    engine = resources.results_store()
    sync_periods(engine, project_id, now=now())
    periods = periods_of(engine, project_id)
    return [
        {"id": loc.id, "name": loc.name, "periods": periods.get(loc.id, [])}
        for loc in locations_of(engine, project_id)
    ]


@bp.get("/projects/<int:project_id>/gallery")
def gallery(project_id: int) -> Any:
    if signed_in() is None:
        return login_manager.unauthorized()
    project, role, user = project_for(project_id, Can.READ_OWN)
    jobs = visible_jobs(project.id, role, user)
    chosen = {k: str(request.args.get(k) or "") for k in KEPT}
    args = {**{k: v for k, v in chosen.items() if v}, "per_page": str(PER_PAGE)}
    args["page"] = str(request.args.get("page") or 1)
    args |= {k: chosen[k] for k in ("location", "period") if chosen[k]}
    page = project_media_page(
        resources.results_store(),
        jobs,
        project_query(project.id, args),
        job=chosen["job"],
        project=project.id if sees_all(role, user) else None,
    )
    for item in page["media"]:
        with_urls(item["job"], item)

    def link(number: int) -> str:
        kept = {k: v for k, v in chosen.items() if v}
        return f"?{urlencode({**kept, 'page': number})}"

    return render_template(
        "project_gallery.html",
        project=project,
        page=page,
        jobs=jobs,
        places=_places(project.id),
        chosen=chosen,
        outcomes=OUTCOMES,
        orders={k: v for k, v in ORDER_NAMES.items() if k in ORDERS},
        previous=link(page["page"] - 1) if page["page"] > 1 else None,
        next=link(page["page"] + 1) if page["page"] < page["pages"] else None,
    )


@bp.get("/projects/<int:project_id>/review")
def review_page(project_id: int) -> Any:
    if signed_in() is None:
        return login_manager.unauthorized()
    project, _, _ = project_for(project_id, Can.REVIEW)
    fields = [f.public() for f in ProjectSettings.from_json(project.settings).fields]
    return render_template(
        "project_review.html", project=project, places=_places(project.id), fields=fields
    )
