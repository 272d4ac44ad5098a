"""A project's export: the reports of every finished card as one set (report.xlsx, the CSVs,
detections.json) and one Camtrap DP package of the whole survey, written by the same streaming
code as a card's reports, zipped and renamed into place only while the export still owns the
project's record. The annotated photos stay in each card's own zip: a season's pictures are
too large to copy into every export."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from model_server.outputs.ecology_files import ecology_tables
from model_server.outputs.export import counted
from model_server.outputs.project_tables import ProjectTables, file_key, project_tables
from model_server.outputs.reports import REPORT_FILES, write_reports
from model_server.outputs.result_zip import write_result_zip
from model_server.outputs.run_info import RunInfo, run_from_job
from shared.ecology.camera_checks import CameraCheck, camera_checks
from shared.ecology.clock_fix import shifted_files
from shared.ecology.effort import DEFAULT_SILENT_DAYS
from shared.ecology.histories import DEFAULT_OCCASION_DAYS
from shared.ecology.survey import SurveyEcology, survey_ecology
from shared.ecology.tables import gap_text
from shared.errors import JobLost, ResultsError
from shared.events.model import DEFAULT_EVENT_GAP, Deployment
from shared.people.projects import Project
from shared.store.reads import iter_media, job_row
from shared.store.records import MediaRecord
from shared.store.snapshot import Reader, snapshot
from shared.store.writes import JobRow
from shared.surveys.periods import sync_periods
from shared.surveys.project_settings import ProjectSettings, survey_for


@dataclass(frozen=True)
class ProjectTarget:
    engine: Engine
    project: Project
    job_ids: list[str]  # the project's cards, oldest first
    reports_dir: Path  # emptied and filled
    zip_path: Path
    camtrap_dp_schemas: Path | None = None


def finished_cards(engine: Reader, job_ids: list[str]) -> list[JobRow]:
    rows = [job_row(engine, job_id) for job_id in job_ids]
    return [row for row in rows if row is not None and row.finished_at is not None]


def project_run(cards: list[JobRow], project: Project) -> tuple[RunInfo, list[str]]:
    """One run for the whole set: the newest card's model and thresholds (each file keeps the
    boxes its own run stored), the project's event gap and clock offset, the season's span. A
    warning names cards run by another model or at another threshold."""
    newest = max(cards, key=lambda c: (c.finished_at, c.id))
    run = run_from_job(newest)
    settings = ProjectSettings.from_json(project.settings)
    first = min(cards, key=lambda c: c.started_at or c.created_at)
    run = replace(
        run,
        started=run_from_job(first).started,
        skipped=[],
        event_gap=DEFAULT_EVENT_GAP if settings.event_gap is None else settings.event_gap,
        utc_offset=project.utc_offset or run.utc_offset,
        sorted_copies=False,
    )
    warnings = []
    others = [c for c in cards if (c.model_name, c.threshold) != (run.model.name, run.threshold)]
    if others:
        named = ", ".join(f"{c.id[:12]} ({c.model_name} at {c.threshold:g})" for c in others[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        warnings.append(
            f"{len(others)} card(s) were run by another model or at another threshold than "
            f"{run.model.name} at {run.threshold:g}: {named}{more}; this export counts every "
            f"file at {run.threshold:g}"
        )
    return run, warnings


def _records(
    engine: Reader, cards: list[JobRow], shifts: dict[tuple[str, str], timedelta]
) -> Iterator[MediaRecord]:
    """Each card's files under their card's name, on the corrected clock where a person fixed
    their period's (the camera's own time kept as `camera_clock`)."""
    for card in cards:
        for record in iter_media(engine, card.id):
            shift = shifts.get((card.id, record.file))
            if shift is not None and record.captured is not None:
                own = record.metadata["captured"]
                corrected = (record.captured + shift).isoformat()
                meta = {**record.metadata, "captured": corrected, "camera_clock": own}
                record = replace(record, metadata=meta)
            yield replace(record, file=file_key(card.id, record.file))


def write_project_outputs(
    target: ProjectTarget,
    *,
    now: datetime,
    may_publish: Callable[[], bool] = lambda: True,
    progress: Callable[[str, int], None] = lambda stage, done: None,
) -> dict[str, Any]:
    """Returns the export's summary (the cards' tallies, warnings and how many cards it
    holds); raises ResultsError
    when no card has finished yet, JobLost when publishing was refused."""
    sync_periods(target.engine, target.project.id, now=now)  # new cards matched to locations
    with snapshot(target.engine) as store:  # then every read from one instant (issue 33, item 4)
        cards = finished_cards(store, target.job_ids)
        if not cards:
            raise ResultsError(
                "The project has no finished upload yet: there is nothing to export."
            )
        run, warnings = project_run(cards, target.project)
        found = project_tables(store, target.project.id, [c.id for c in cards], run.event_gap)
        run.places = found.places
        settings = ProjectSettings.from_json(target.project.settings)
        survey = survey_ecology(
            store,
            target.project.id,
            [c.id for c in cards],
            run.event_gap,
            settings.silent_days or DEFAULT_SILENT_DAYS,
            target.project.utc_offset,
            events=found.events,  # grouped at the same gap: the files are read once
        )
        ecology = ecology_tables(survey, settings.occasion_days or DEFAULT_OCCASION_DAYS)
        _note_gaps(found.tables.deployments, survey, found.scope.comments)
        checks = camera_checks(
            store, target.project.id, [c.id for c in cards], target.project.utc_offset, now=now
        )
        _note_clocks(found, checks)
        with store.connect() as conn:
            shifts = shifted_files(conn, found.clock_shifts)
        reports = target.reports_dir
        try:
            if reports.exists():
                shutil.rmtree(reports)
            reports.mkdir(parents=True)
            tally, more = write_reports(
                counted(_records(store, cards, shifts), "report", progress),
                reports,
                run,
                events=found.tables,
                job_id=f"project-{target.project.id}",
                schemas=target.camtrap_dp_schemas,
                survey=survey_for(target.project),
                scope=found.scope,
                ecology=ecology,
            )
        except OSError as exc:
            why = exc.strerror or exc
            raise ResultsError(f"The server could not write the reports ({why}).") from exc
    progress("zip", tally.images)
    names = [*REPORT_FILES, *(t.file for t in ecology)]
    entries = ((name, reports / name, True) for name in names)
    if not write_result_zip(target.zip_path, entries, may_publish):
        raise JobLost("this model server no longer owns the project's export")
    return {**tally.summary(run.threshold, [*warnings, *more]), "cards": len(cards)}


def _note_gaps(
    deployments: list[Deployment], survey: SurveyEcology, comments: dict[str, str]
) -> None:
    """Each deployment's Camtrap DP comment names the operation gaps inside its span."""
    by_name = {e.name: e for e in survey.effort.values()}
    for d in deployments:
        effort = by_name.get(d.folder)
        if effort is None or d.start is None or d.end is None:
            continue
        start, end = d.start, d.end
        inside = [g for g in effort.gaps if g.start < end and start < g.end]
        if inside:
            comments[d.id] = comments.get(d.id, "") + f"not operating: {gap_text(inside)}; "


def _note_clocks(found: ProjectTables, checks: list[CameraCheck]) -> None:
    """A deployment whose clock still disagrees with the sun has `timestampIssues`; one a
    person corrected says so in its comment."""
    off = {period for c in checks for period in c.uncorrected_periods}
    for period, deployment in found.deployment_of_period.items():
        if period in off:
            found.scope.fields.setdefault(deployment, {})["timestampIssues"] = True
        shift = found.clock_shifts.get(period)
        if shift:
            hours = shift.total_seconds() / 3600
            found.scope.comments[deployment] = (
                found.scope.comments.get(deployment, "")
                + f"times corrected by {hours:+g} h from the camera's clock; "
            )
