"""A project's gallery in the browser: one page of every card's media at a time, with the job
gallery's filters and orders (most uncertain first across all uploads among them) plus the
upload, drawn on the server so it works without JavaScript. Each picture opens its upload's own
results page, where the viewer and the review are."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from shared.people.roles import Can
from shared.store.project_queries import project_media_page
from shared.store.queries import ORDERS
from shared.store.records import OUTCOMES
from web import resources
from web.access import login_manager, signed_in
from web.project_results import visible_jobs
from web.projects import project_for
from web.results import media_query, with_urls

bp = Blueprint("project_gallery", __name__)
PER_PAGE = 48
KEPT = ("outcome", "job", "order", "reviewed")  # the filters a page link carries
ORDER_NAMES = {
    "path": "upload order",
    "captured": "capture time",
    "confidence": "most confident first",
    "uncertain": "most uncertain first",
}


@bp.get("/projects/<int:project_id>/gallery")
def gallery(project_id: int) -> Any:
    if signed_in() is None:
        return login_manager.unauthorized()
    project, role, user = project_for(project_id, Can.READ_OWN)
    jobs = visible_jobs(project.id, role, user)
    chosen = {k: str(request.args.get(k) or "") for k in KEPT}
    args = {**{k: v for k, v in chosen.items() if v}, "per_page": str(PER_PAGE)}
    args["page"] = str(request.args.get("page") or 1)
    page = project_media_page(resources.results_store(), jobs, media_query(args), job=chosen["job"])
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
        chosen=chosen,
        outcomes=OUTCOMES,
        orders={k: v for k, v in ORDER_NAMES.items() if k in ORDERS},
        previous=link(page["page"] - 1) if page["page"] > 1 else None,
        next=link(page["page"] + 1) if page["page"] < page["pages"] else None,
    )
