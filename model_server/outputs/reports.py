"""Writes report.xlsx, detections.json and the CSVs in one streaming pass over a job's stored
media, with the job's deployments and events worked out beforehand from a light read of it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from model_server.outputs.camtrap_dp.package import FILES as CAMTRAP_FILES
from model_server.outputs.camtrap_dp.package import FOLDER as CAMTRAP_FOLDER
from model_server.outputs.camtrap_dp.package import CamtrapWriter, SurveyScope, validated
from model_server.outputs.camtrap_dp.tables import classifier_name
from model_server.outputs.csv_report import CsvTable
from model_server.outputs.ecology_files import EcologyTable, write_ecology_files
from model_server.outputs.event_tables import DEPLOYMENT_COLUMNS, EVENT_COLUMNS, EventTables
from model_server.outputs.excel_report import EXCEL_MAX_ROWS, ExcelReport
from model_server.outputs.md_json import MdJsonWriter
from model_server.outputs.rows import (
    DETECTION_COLUMNS,
    FRAME_COLUMNS,
    MEDIA_COLUMNS,
    detection_rows,
    frame_rows,
    media_row,
)
from model_server.outputs.run_info import RunInfo, Tally
from shared.camtrap_options import Place
from shared.store.records import MediaRecord
from shared.surveys.project_settings import Survey

# images.csv keeps its name (scripts read it) though it lists videos too, as the Media sheet does
REPORT_FILES = (
    "report.xlsx",
    "detections.json",
    "images.csv",
    "frames.csv",
    "detections.csv",
    "events.csv",
    "deployments.csv",
    *CAMTRAP_FILES,
)


def write_reports(
    records: Iterable[MediaRecord],
    out_dir: Path,
    run: RunInfo,
    *,
    excel_max_rows: int = EXCEL_MAX_ROWS,
    events: EventTables | None = None,
    job_id: str = "batch",
    schemas: Path | None = None,
    survey: Survey | None = None,
    scope: SurveyScope | None = None,
    ecology: Sequence[EcologyTable] = (),
) -> tuple[Tally, list[str]]:
    """Returns the tallies and any warnings (such as Excel's row limit) for the summary.
    `ecology`: a project export's effort, abundance, activity and occupancy tables."""
    tally = Tally()
    events = events or EventTables([], [], {})
    fields = tuple(f.name for f in survey.settings.fields) if survey is not None else ()
    excel = ExcelReport(out_dir / "report.xlsx", max_rows=excel_max_rows, fields=fields)
    camtrap = CamtrapWriter(
        out_dir / CAMTRAP_FOLDER,
        events,
        job_id=job_id,
        model=run.model.name,
        threshold=run.threshold,
        utc_offset=run.utc_offset,
        places=run.places,
        classifier=classifier_name(run.species),
        survey=survey,
        scope=scope,
    )
    with (
        _closed_on_error(camtrap),
        (out_dir / "detections.json").open("w", encoding="utf-8") as json_fh,
        (out_dir / "images.csv").open("w", encoding="utf-8-sig", newline="") as images_fh,
        (out_dir / "frames.csv").open("w", encoding="utf-8-sig", newline="") as frames_fh,
        (out_dir / "detections.csv").open("w", encoding="utf-8-sig", newline="") as dets_fh,
    ):
        md_json = MdJsonWriter(json_fh, run)
        images_csv = CsvTable(images_fh, MEDIA_COLUMNS)
        frames_csv = CsvTable(frames_fh, FRAME_COLUMNS)
        dets_csv = CsvTable(dets_fh, (*DETECTION_COLUMNS, *fields))
        for record in records:
            tally.add(record, run.threshold)
            md_json.add(record)
            row = {**media_row(record, run.threshold), **events.media_columns(record.file)}
            images_csv.add(row)
            excel.media.add(row)
            camtrap.add(record)
            for frame_row in frame_rows(record, run.threshold):
                frames_csv.add(frame_row)
                excel.frames.add(frame_row)
            for det_row in detection_rows(record, run.threshold):
                dets_csv.add(det_row)
                excel.detections.add(det_row)
        md_json.close()
    _event_tables(events, excel, out_dir, tally, run.places, fields)
    write_ecology_files(list(ecology), out_dir)
    for table in ecology:
        if table.sheet:
            excel.table(table.sheet, table.rows)
    facts = camtrap.close(run.finished or run.started)
    if schemas is not None:
        facts = validated(out_dir / CAMTRAP_FOLDER, facts, schemas)
    tally.camtrap = facts.as_summary()
    warnings = excel.close(run, tally)
    return tally, warnings


@contextlib.contextmanager
def _closed_on_error(camtrap: CamtrapWriter) -> Iterator[None]:
    try:
        yield
    except BaseException:
        camtrap.abort()
        raise


def _event_tables(
    events: EventTables,
    excel: ExcelReport,
    out_dir: Path,
    tally: Tally,
    places: dict[str, Place],
    fields: tuple[str, ...] = (),
) -> None:
    tally.deployments = len(events.deployments)
    tally.events.update(e.outcome for e in events.events)
    tally.events_reviewed.update(e.outcome for e in events.events if e.reviewed)
    for name, rows, columns, sheet in (
        ("events.csv", events.event_rows(), (*EVENT_COLUMNS, *fields), excel.events),
        (
            "deployments.csv",
            events.deployment_rows(places),
            DEPLOYMENT_COLUMNS,
            excel.deployments,
        ),
    ):
        with (out_dir / name).open("w", encoding="utf-8-sig", newline="") as fh:
            table = CsvTable(fh, columns)
            for row in rows:
                table.add(row)
                sheet.add(row)
