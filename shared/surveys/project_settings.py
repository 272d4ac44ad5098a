"""A project's settings: the defaults every card uploaded into it gets (event gap, camera folder
level, class set; the cameras' UTC offset is the project's own column), and what a Camtrap DP
package says about the survey (title, contributors, licence, sampling design, capture method)
instead of placeholders, and the fields its reviewers record beside the species. Checked
here, so the API, the page and the store agree."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from shared.options import JobOptions
from shared.people.errors import PeopleError
from shared.people.projects import Project, place_of, project_by_id
from shared.store.snapshot import Reader
from shared.surveys.custom_fields import CustomField
from shared.surveys.custom_fields import from_json as fields_from_json
from shared.surveys.custom_fields import parsed as parsed_fields
from shared.video_options import parse_deployment_level, parse_event_gap

# Camtrap DP 1.0's enumerations (camtrap-dp-profile.json)
SAMPLING_DESIGNS = (
    "simpleRandom",
    "systematicRandom",
    "clusteredRandom",
    "experimental",
    "targeted",
    "opportunistic",
)
CAPTURE_METHODS = ("activityDetection", "timeLapse")
CONTRIBUTOR_ROLES = ("contact", "principalInvestigator", "rightsHolder", "publisher", "contributor")
LICENCE = re.compile(r"^[A-Za-z0-9.+-]{2,40}$")  # an SPDX identifier: CC-BY-4.0, CC0-1.0
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_CONTRIBUTORS = 100


@dataclass(frozen=True)
class Contributor:
    title: str
    role: str = "contributor"
    email: str = ""

    def public(self) -> dict[str, str]:
        found = {"title": self.title, "role": self.role}
        if self.email:
            found["email"] = self.email
        return found


@dataclass(frozen=True)
class ProjectSettings:
    event_gap: float | None = None
    deployment_level: int | None = None
    class_set: str = ""
    title: str = ""
    contributors: tuple[Contributor, ...] = ()
    licence: str = ""
    sampling_design: str = ""
    capture_method: tuple[str, ...] = field(default_factory=tuple)
    fields: tuple[CustomField, ...] = ()  # recorded on boxes and events (`custom_fields`)
    silent_days: float | None = None  # a silence this long while others recorded: a gap
    occasion_days: int | None = None  # detection histories' occasion length

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> ProjectSettings:
        """What the store holds (checked when it was written; unknown keys are ignored)."""
        raw = dict(raw or {})
        return cls(
            event_gap=raw.get("event_gap"),
            deployment_level=raw.get("deployment_level"),
            class_set=str(raw.get("class_set") or ""),
            title=str(raw.get("title") or ""),
            contributors=tuple(Contributor(**c) for c in raw.get("contributors") or []),
            licence=str(raw.get("licence") or ""),
            sampling_design=str(raw.get("sampling_design") or ""),
            capture_method=tuple(raw.get("capture_method") or ()),
            fields=fields_from_json(raw.get("fields")),
            silent_days=raw.get("silent_days"),
            occasion_days=raw.get("occasion_days"),
        )

    def to_json(self) -> dict[str, Any]:
        found = asdict(self)
        found["contributors"] = [c.public() for c in self.contributors]
        found["capture_method"] = list(self.capture_method)
        found["fields"] = [f.public() for f in self.fields]
        return found

    def defaults_for(self, options: JobOptions, utc_offset: str) -> JobOptions:
        """`options` with the project's defaults where the uploader left a field blank."""
        return replace(
            options,
            event_gap=options.event_gap if options.event_gap is not None else self.event_gap,
            deployment_level=(
                options.deployment_level
                if options.deployment_level is not None
                else self.deployment_level
            ),
            utc_offset=options.utc_offset or utc_offset or None,
            class_set=options.class_set or self.class_set,
        )


def _text(raw: Any, what: str, longest: int) -> str:
    text = " ".join(str(raw or "").split())
    if len(text) > longest:
        raise PeopleError(f"The {what} is at most {longest} characters.")
    return text


def _contributor(raw: Any) -> Contributor:
    """{"title", "role"?, "email"?}, or a line `Name <email>, role`."""
    if isinstance(raw, str):
        name, _, role = raw.partition(",")
        email = ""
        if "<" in name and name.rstrip().endswith(">"):
            name, _, rest = name.partition("<")
            email = rest.strip().rstrip(">").strip()
        raw = {"title": name, "role": role.strip() or "contributor", "email": email}
    if not isinstance(raw, dict):
        raise PeopleError("A contributor is {title, role, email} or a line 'Name <email>, role'.")
    title = _text(raw.get("title"), "contributor's name", 200)
    role = str(raw.get("role") or "contributor").strip()
    email = str(raw.get("email") or "").strip()
    if not title:
        raise PeopleError("Every contributor has a name.")
    if role not in CONTRIBUTOR_ROLES:
        raise PeopleError(
            f"{role!r} is not a contributor role; one of {', '.join(CONTRIBUTOR_ROLES)}."
        )
    if email and not EMAIL.match(email):
        raise PeopleError(f"{email!r} is not an email address.")
    return Contributor(title, role, email)


def _contributors(raw: Any) -> tuple[Contributor, ...]:
    if isinstance(raw, str):
        raw = [line for line in raw.splitlines() if line.strip()]
    if not isinstance(raw, list):
        raise PeopleError("contributors is a list.")
    if len(raw) > MAX_CONTRIBUTORS:
        raise PeopleError(f"A project lists at most {MAX_CONTRIBUTORS} contributors.")
    return tuple(_contributor(c) for c in raw)


def _capture_method(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not all(m in CAPTURE_METHODS for m in raw):
        raise PeopleError(f"captureMethod is one or more of {', '.join(CAPTURE_METHODS)}.")
    return tuple(dict.fromkeys(raw))


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def changed(current: ProjectSettings, body: dict[str, Any]) -> ProjectSettings:
    """`current` with the fields `body` names, each checked; a blank value clears a field."""
    found: dict[str, Any] = {}
    try:
        if "event_gap" in body:
            raw = body["event_gap"]
            found["event_gap"] = None if _blank(raw) else parse_event_gap(raw)
        if "deployment_level" in body:
            raw = body["deployment_level"]
            found["deployment_level"] = None if _blank(raw) else parse_deployment_level(raw)
    except ValueError as exc:
        raise PeopleError(f"{exc}.") from None
    if "class_set" in body:
        found["class_set"] = str(body["class_set"] or "").strip()
    if "title" in body:
        found["title"] = _text(body["title"], "title", 300)
    if "contributors" in body:
        found["contributors"] = _contributors(body["contributors"] or [])
    if "licence" in body:
        licence = str(body["licence"] or "").strip()
        if licence and not LICENCE.match(licence):
            raise PeopleError(f"{licence!r} is not a licence identifier like CC-BY-4.0.")
        found["licence"] = licence
    if "sampling_design" in body:
        design = str(body["sampling_design"] or "").strip()
        if design and design not in SAMPLING_DESIGNS:
            raise PeopleError(f"samplingDesign is one of {', '.join(SAMPLING_DESIGNS)}.")
        found["sampling_design"] = design
    if "capture_method" in body:
        found["capture_method"] = _capture_method(body["capture_method"] or [])
    if "fields" in body:
        found["fields"] = parsed_fields(body["fields"] or [])
    if "silent_days" in body:
        found["silent_days"] = _number(body["silent_days"], "silent_days", 0.5, 366.0)
    if "occasion_days" in body:
        days = _number(body["occasion_days"], "occasion_days", 1, 366)
        found["occasion_days"] = None if days is None else int(days)
        if days is not None and days != int(days):
            raise PeopleError("occasion_days is a whole number of days.")
    return replace(current, **found)


def _number(raw: Any, name: str, low: float, high: float) -> float | None:
    """A number of days between `low` and `high`; None for a blank value (the default)."""
    if _blank(raw):
        return None
    try:
        value = float(str(raw))
    except ValueError:
        raise PeopleError(f"{name} is a number of days.") from None
    if not low <= value <= high:
        raise PeopleError(f"{name} is {low:g}-{high:g} days.")
    return value


@dataclass(frozen=True)
class Survey:
    """What a card's outputs say about the project it belongs to."""

    project_id: int
    name: str
    description: str
    settings: ProjectSettings


def survey_of(engine: Reader, job_id: str) -> Survey | None:
    """The job's project with its settings; None for an Inbox job."""
    place = place_of(engine, job_id)
    project = project_by_id(engine, place.project_id) if place.project_id is not None else None
    return survey_for(project) if project is not None else None


def survey_for(project: Project) -> Survey:
    settings = ProjectSettings.from_json(project.settings)
    return Survey(project.id, project.name, project.description, settings)


def fields_of(engine: Reader, job_id: str) -> tuple[CustomField, ...]:
    """The fields the job's project records (none for an Inbox job)."""
    survey = survey_of(engine, job_id)
    return survey.settings.fields if survey is not None else ()
