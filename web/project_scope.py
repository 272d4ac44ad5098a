"""Which of a project's uploads a caller sees, and the event gap its pages use: what the
project's results, charts, gallery and repeats all ask first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.events.model import DEFAULT_EVENT_GAP
from shared.people.projects import Project, job_ids_of
from shared.people.roles import Can, Role
from shared.people.users import User
from shared.surveys.periods import sync_periods
from shared.surveys.project_settings import ProjectSettings
from shared.video_options import parse_event_gap
from web import resources
from web.access import now
from web.errors import Refusal
from web.projects import project_for


def sees_all(role: Role | None, user: User) -> bool:
    """Whether the caller sees every upload of the project (not only their own)."""
    return user.site_admin or role is None or Can.READ in role.can


def visible_jobs(project_id: int, role: Role | None, user: User) -> list[str]:
    """The project's uploads the caller may see: every one, or an uploader's own."""
    mine = not sees_all(role, user)
    return job_ids_of(resources.results_store(), project_id, uploader_id=user.id if mine else None)


@dataclass(frozen=True)
class SurveyScope:
    project: Project
    job_ids: list[str]  # the uploads the caller may see
    can: frozenset[Can]  # what the caller may do in the project


def survey_scope(project_id: int) -> SurveyScope:
    """The project and the uploads the caller may see, new cards matched to locations: where
    every survey-level page and API (ecology, camera checks) starts."""
    project, role, user = project_for(project_id, Can.READ_OWN)
    sync_periods(resources.results_store(), project.id, now=now())
    can = frozenset(Can) if user.site_admin else role.can if role is not None else frozenset()
    return SurveyScope(project, visible_jobs(project.id, role, user), can)


def project_gap(project: Project, args: Mapping[str, Any]) -> float:
    """The project's event gap, or `event_gap` (seconds) from the query to try another."""
    chosen = ProjectSettings.from_json(project.settings).event_gap
    try:
        return parse_event_gap(
            args.get("event_gap") or (DEFAULT_EVENT_GAP if chosen is None else chosen)
        )
    except ValueError as exc:
        raise Refusal(str(exc)) from exc
