"""What the site writes into a project's audit log as people act on it: uploads, reviews, bulk
actions, thresholds, exports, classify runs, membership and settings changes."""

from __future__ import annotations

from typing import Any

from flask import g

from shared.people import audit
from shared.people.projects import place_of
from web import resources
from web.access import now, signed_in


def note(project_id: int, action: str, detail: dict[str, Any], *, typed_name: str = "") -> None:
    user = signed_in()
    actor = user.name if user is not None else (typed_name.strip() or "anonymous")
    audit.record(
        resources.results_store(),
        project_id,
        actor=actor,
        user_id=user.id if user is not None else None,
        action=action,
        detail=detail,
        now=now(),
    )


def note_job(job_id: str, action: str, detail: dict[str, Any], *, typed_name: str = "") -> None:
    """Records the action in the job's project, if it has one (an Inbox job has no log)."""
    access = getattr(g, "job_access", None)
    place = access.place if access is not None else place_of(resources.results_store(), job_id)
    if place.project_id is not None:
        note(place.project_id, action, {"job": job_id, **detail}, typed_name=typed_name)
