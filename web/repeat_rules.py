"""A project's repeat rules over HTTP: the rules its locations learnt from rejected groups (or
that a reviewer set by hand), how many boxes each holds suppressed now, and switching one off,
which puts those boxes back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from shared.categories import CATEGORY_IDS
from shared.people.errors import PeopleError
from shared.people.roles import Can
from shared.store.repeat_rules import add_rule, rules_of, switch_off
from web import resources
from web.access import now, reviewer_name
from web.audit_trail import note
from web.errors import Refusal
from web.projects import project_for
from web.request_body import is_row_id
from web.review import json_body

bp = Blueprint("repeat_rules", __name__, url_prefix="/api/projects/<int:project_id>/rules")


@bp.get("")
def listed(project_id: int) -> Any:
    """Every rule of the project's locations (as its locations, for those who see them all)."""
    project, _, _ = project_for(project_id, Can.READ)
    found = rules_of(resources.results_store(), project.id)
    return jsonify(project=project.id, rules=[r.public() for r in found])


def _bbox(raw: Any) -> tuple[float, float, float, float]:
    if (
        not isinstance(raw, list)
        or len(raw) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
    ):
        raise Refusal("bbox must be [x, y, width, height], numbers from 0 to 1.")
    x, y, w, h = (float(v) for v in raw)
    return x, y, w, h


@bp.post("")
def create(project_id: int) -> Any:
    """A rule set by hand: {"location": id, "category": "animal", "bbox": [x, y, w, h], "iou"};
    it suppresses matching boxes of the location's cards processed from now on."""
    project, _, user = project_for(project_id, Can.REVIEW)
    body = json_body()
    category = CATEGORY_IDS.get(str(body.get("category", "")))
    if category is None:
        raise Refusal(f"category must be one of {', '.join(CATEGORY_IDS)}.")
    location = body.get("location")
    if not is_row_id(location):
        raise Refusal("location must be the id of one of the project's locations.")
    overlap = body.get("iou", resources.settings().repeat_iou)
    if not isinstance(overlap, int | float) or isinstance(overlap, bool):
        raise Refusal("iou must be a number above 0 and at most 1.")
    who = reviewer_name(str(body.get("reviewer", ""))) or user.name
    try:
        rule = add_rule(
            resources.results_store(),
            project.id,
            location,
            category,
            _bbox(body.get("bbox")),
            iou_at_least=float(overlap),
            files=0,
            source="by hand",
            by=who,
            now=now(),
        )
    except PeopleError as exc:
        raise Refusal(str(exc)) from None
    note(project.id, "repeat_rule", {"rule": rule.id, "location": rule.location})
    return jsonify(rule.public()), 201


@bp.delete("/<int:rule_id>")
def switch(project_id: int, rule_id: int) -> Any:
    """Switches the rule off: every box it suppressed counts again, on every card."""
    project, _, user = project_for(project_id, Can.REVIEW)
    try:
        rule, restored = switch_off(
            resources.results_store(), project.id, rule_id, by=user.name, now=now()
        )
    except PeopleError as exc:
        raise Refusal(str(exc), 404) from None
    note(project.id, "repeat_rule_off", {"rule": rule.id, "restored": restored})
    return jsonify({**rule.public(), "restored": restored})
