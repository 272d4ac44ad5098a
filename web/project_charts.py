"""A project's charts over the season, as the job dashboard draws them: detections by hour of
day and by day over every card the caller may see, and the map of its locations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort

from shared.people.roles import Can
from shared.store.insights import by_day, by_hour
from web import resources
from web.charts.camera_map import camera_map
from web.insights import days_chart, hours_chart, svg
from web.project_results import season_locations
from web.project_scope import visible_jobs
from web.projects import project_for

bp = Blueprint("project_charts", __name__)
UNIT = "Detections (boxes at each card's threshold)"


@bp.get("/projects/<int:project_id>/charts/<name>.svg")
def chart(project_id: int, name: str) -> Any:
    project, role, user = project_for(project_id, Can.READ_OWN)
    visible = visible_jobs(project.id, role, user)
    engine = resources.results_store()
    if name == "hours":
        return svg(hours_chart(by_hour(engine, visible), UNIT))
    if name == "days":
        return svg(days_chart(by_day(engine, visible), UNIT))
    if name == "map":
        places = [{**loc, "folder": loc["name"]} for loc in season_locations(project.id, visible)]
        title = "Camera locations (registered, else the median GPS of their photos)"
        return svg(camera_map(places, title=title))
    abort(404)
