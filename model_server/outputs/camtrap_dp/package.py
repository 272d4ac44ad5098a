"""Writes a job's Camtrap DP package (`camtrap-dp/` in the result zip) while the reports stream
past: media and media-level observations per stored file, then the deployments, the event-level
observations and `datapackage.json`. A package Camtrap DP would refuse (a deployment without
coordinates, a file without a capture time) is still written, and says why it is not valid for
publication, in `datapackage.json` and on the job page."""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from model_server.outputs.camtrap_dp.descriptor import descriptor
from model_server.outputs.camtrap_dp.tables import (
    DEPLOYMENT_FIELDS,
    MEDIA_FIELDS,
    OBSERVATION_FIELDS,
    deployment_row,
    event_observations,
    media_observations,
    media_row,
)
from model_server.outputs.camtrap_dp.validation import grouped, said, validate
from model_server.outputs.csv_report import as_text
from model_server.outputs.event_tables import EventTables
from shared.camtrap_options import Place, offset_zone
from shared.events.model import Deployment
from shared.store.records import MediaRecord
from shared.surveys.project_settings import Survey

log = logging.getLogger(__name__)
FOLDER = "camtrap-dp"
FILES = tuple(
    f"{FOLDER}/{name}"
    for name in ("datapackage.json", "deployments.csv", "media.csv", "observations.csv")
)
NAMED = 5  # files or deployments named in a problem before "and N more"


@dataclass(frozen=True)
class SurveyScope:
    """A package of a whole survey rather than one upload: each deployment (a location's
    period) with its comment and the location's facts (`cameraHeight`, ...) by deployment id."""

    comments: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # text from names and reviewers: never a formula
        return as_text(value)
    return str(value)


class _Table:
    def __init__(self, fh: IO[str], columns: tuple[str, ...]) -> None:
        self._writer = csv.writer(fh, lineterminator="\n")
        self._columns = columns
        self._writer.writerow(columns)

    def add(self, row: dict[str, Any]) -> None:
        self._writer.writerow([_cell(row.get(c)) for c in self._columns])


@dataclass
class PackageFacts:
    """What the job page says about the package."""

    valid: bool
    problems: list[str]
    missing_places: list[str] = field(default_factory=list)  # deployments without coordinates
    notes: list[str] = field(default_factory=list)  # worth saying, not in the way of publishing
    utc_offset: str = "+00:00"
    checked: bool = False  # validated by frictionless against the published schemas
    # what frictionless found, grouped by kind, table and field (`validation.grouped`)
    validator: list[dict[str, Any]] = field(default_factory=list)

    def as_summary(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "problems": self.problems,
            "validator": self.validator,
            "missing_places": self.missing_places,
            "notes": self.notes,
            "utc_offset": self.utc_offset,
            "checked": self.checked,
        }


def _named(items: list[str]) -> str:
    more = f" and {len(items) - NAMED} more" if len(items) > NAMED else ""
    return ", ".join(items[:NAMED]) + more


class CamtrapWriter:
    def __init__(
        self,
        folder: Path,
        events: EventTables,
        *,
        job_id: str,
        model: str,
        threshold: float,
        utc_offset: str,
        places: dict[str, Place],
        classifier: str = "",
        survey: Survey | None = None,
        scope: SurveyScope | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.events, self.job_id = folder, events, job_id
        self.model, self.threshold, self.utc_offset = model, threshold, utc_offset
        self.places, self.zone = places, offset_zone(utc_offset)
        self.classifier, self.survey, self.scope = classifier, survey, scope
        self.fields = survey.settings.fields if survey is not None else ()
        self._media_fh = (folder / "media.csv").open("w", encoding="utf-8", newline="")
        self._obs_fh = (folder / "observations.csv").open("w", encoding="utf-8", newline="")
        self._media = _Table(self._media_fh, MEDIA_FIELDS)
        self._observations = _Table(self._obs_fh, OBSERVATION_FIELDS)
        self._untimed: list[str] = []
        self._species: set[str] = set()

    def add(self, record: MediaRecord) -> None:
        event = self.events.of_file.get(record.file)
        deployment = event.deployment if event else ""
        self._media.add(media_row(record, deployment, self.zone))
        if record.captured is None:
            self._untimed.append(record.file)
        for row in media_observations(
            record,
            event,
            deployment,
            self.zone,
            self.threshold,
            self.model,
            self.classifier,
            self.fields,
        ):
            if row.get("scientificName"):
                self._species.add(row["scientificName"])
            self._observations.add(row)

    def close(self, created: datetime) -> PackageFacts:
        for event in self.events.events:
            for row in event_observations(event, self.zone, self.model, self.fields):
                self._observations.add(row)
        self._media_fh.close()
        self._obs_fh.close()
        missing, used = self._deployments()
        problems = self._problems(missing)
        unknown = sorted(set(self.places) - used)
        notes = (
            [f"coordinates were given for {_named(unknown)}, not a deployment of this job"]
            if unknown
            else []
        )
        positions = [p for d in self.events.deployments if (p := self._place(d))]
        package = descriptor(
            job_id=self.job_id,
            created=created,
            model=self.model,
            threshold=self.threshold,
            utc_offset=self.utc_offset,
            found=self.events.deployments,
            places=positions,
            species=sorted(self._species),
            problems=problems,
            software=_software(),
            survey=self.survey,
            whole_survey=self.scope is not None,
        )
        (self.folder / "datapackage.json").write_text(
            json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return PackageFacts(not problems, problems, missing, notes, self.utc_offset)

    def abort(self) -> None:
        self._media_fh.close()
        self._obs_fh.close()

    def _given(self, d: Deployment) -> str | None:
        """The name the uploader gave this deployment's coordinates under: its id or folder."""
        return next((name for name in (d.id, d.folder) if name in self.places), None)

    def _place(self, d: Deployment) -> Place | None:
        """Coordinates the uploader gave come before the median of the photos' GPS."""
        given = self._given(d)
        if given is not None:
            return self.places[given]
        if d.latitude is not None and d.longitude is not None:
            return d.latitude, d.longitude
        return None

    def _deployments(self) -> tuple[list[str], set[str]]:
        missing: list[str] = []
        used: set[str] = set()
        with (self.folder / "deployments.csv").open("w", encoding="utf-8", newline="") as fh:
            table = _Table(fh, DEPLOYMENT_FIELDS)
            for d in self.events.deployments:
                place, given = self._place(d), self._given(d)
                if given is not None:
                    used.add(given)
                source = (
                    ("registered for the location" if self.scope else "given by the uploader")
                    if given is not None
                    else "the median of its files' GPS"
                    if place
                    else "unknown"
                )
                if place is None:
                    missing.append(d.id)
                where = (
                    self.scope.comments.get(d.id, "")
                    if self.scope
                    else f"Folder '{d.folder}' of the upload; "
                )
                row = deployment_row(
                    d, place, self.zone, f"{where}{len(d.items)} files; position {source}."
                )
                table.add({**row, **(self.scope.fields.get(d.id, {}) if self.scope else {})})
        return missing, used

    def _problems(self, missing: list[str]) -> list[str]:
        problems = []
        if missing:
            problems.append(f"{len(missing)} deployment(s) without coordinates: {_named(missing)}")
        untimed = [d.id for d in self.events.deployments if d.start is None]
        if untimed:
            problems.append(
                f"{len(untimed)} deployment(s) without any capture time: {_named(untimed)}"
            )
        if self._untimed:
            problems.append(
                f"{len(self._untimed)} file(s) without a capture time: {_named(self._untimed)}"
            )
        return problems


SHOWN_PROBLEMS = 5


def validated(folder: Path, facts: PackageFacts, schemas: Path) -> PackageFacts:
    """The package checked by frictionless against the published schemas in `schemas`. What
    it finds beyond what Trapline already said makes the package not valid, in its
    `datapackage.json` and on the job page (a Trapline defect if it ever happens: logged)."""
    found = validate(folder / "datapackage.json", schemas)
    facts.checked = True
    if not found:
        return facts
    if facts.valid:
        log.error(
            "Camtrap DP package in %s: frictionless found %d problem(s) Trapline did not "
            "expect, first: %s",
            folder,
            len(found),
            found[0],
        )
    facts.validator = grouped(found)
    shown = "; ".join(said(g) for g in facts.validator[:SHOWN_PROBLEMS])
    more = len(facts.validator) - SHOWN_PROBLEMS
    facts.valid = False
    facts.problems = [
        *facts.problems,
        f"the validator (frictionless) found {len(found)} problem(s) of "
        f"{len(facts.validator)} kind(s): {shown}"
        + (f" and {more} more kinds" if more > 0 else ""),
    ]
    descriptor_path = folder / "datapackage.json"
    package = json.loads(descriptor_path.read_text(encoding="utf-8"))
    package["trapline"].update(validForPublication=False, problems=facts.problems)
    descriptor_path.write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return facts


def _software() -> str:
    try:
        return version("trapline")
    except PackageNotFoundError:
        return "unknown"
