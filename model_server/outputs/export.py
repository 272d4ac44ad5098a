"""Every output of a job, made from what the store holds: the reports streamed from paged
queries, then the zip with the annotated copies. The batch calls it when its last image is
stored; an export again (after review) calls it on a finished job."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from model_server.outputs.event_tables import EventTables
from model_server.outputs.excel_report import EXCEL_MAX_ROWS
from model_server.outputs.reports import REPORT_FILES, write_reports
from model_server.outputs.result_zip import Source, write_result_zip
from model_server.outputs.run_info import RunInfo, Tally
from model_server.outputs.sorted_copies import sorted_name
from model_server.stage_clock import StageClock
from shared.errors import JobLost, ResultsError
from shared.store.event_data import job_events
from shared.store.reads import iter_media
from shared.store.records import MediaRecord
from shared.store.snapshot import Snapshot, snapshot
from shared.surveys.project_settings import survey_of

# A record's annotated files in the zip, each with where it comes from: a file in the work
# folder or a member of the previous zip. A photo has its annotated copy under its own name; a
# video its best frame (`<video>.best.jpg`) and, when the job asked, its clip
# (`<video>.boxes.mp4`).
CopySource = Callable[[MediaRecord], list[tuple[str, Source]]]


def copy_name(record: MediaRecord) -> str:
    return f"{record.file}.best.jpg" if record.kind == "video" else record.file


def clip_name(record: MediaRecord) -> str:
    return f"{record.file}.boxes.mp4"


def clip_of(record: MediaRecord) -> str:
    """The annotated clip's file name in the work folder, "" when there is none."""
    return str((record.video or {}).get("clip") or "")


@dataclass(frozen=True)
class ExportTarget:
    engine: Engine
    job_id: str
    reports_dir: Path  # emptied and filled
    result_zip: Path
    camtrap_dp_schemas: Path | None = None  # validate the Camtrap DP package against these


def write_outputs(
    target: ExportTarget,
    run: RunInfo,
    copies: CopySource | None,
    *,
    may_publish: Callable[[], bool] = lambda: True,
    excel_max_rows: int = EXCEL_MAX_ROWS,
    clock: StageClock | None = None,
    progress: Callable[[str, int], None] = lambda stage, done: None,
) -> tuple[Tally, list[str]]:
    """Writes the reports, then the zip (renamed into place only while `may_publish()`);
    `copies` None makes a zip of the reports alone. `progress(stage, images done)` is called
    every few hundred images. Returns the tallies and warnings; raises JobLost when publishing
    was refused."""
    clock = clock or StageClock()
    with snapshot(target.engine) as store:
        return _write_outputs(
            store, target, run, copies, may_publish, excel_max_rows, clock, progress
        )


def _write_outputs(
    store: Snapshot,
    target: ExportTarget,
    run: RunInfo,
    copies: CopySource | None,
    may_publish: Callable[[], bool],
    excel_max_rows: int,
    clock: StageClock,
    progress: Callable[[str, int], None],
) -> tuple[Tally, list[str]]:
    """write_outputs, every read from one snapshot of the store: the reports and the zip
    agree with each other and with one instant of the review (issue 33, item 4)."""
    reports = target.reports_dir
    t = time.perf_counter()
    try:
        if reports.exists():
            shutil.rmtree(reports)
        reports.mkdir(parents=True)
        events = EventTables.of(
            *job_events(store, target.job_id, run.event_gap, run.deployment_level)
        )
        tally, warnings = write_reports(
            counted(iter_media(store, target.job_id), "report", progress),
            reports,
            run,
            excel_max_rows=excel_max_rows,
            events=events,
            job_id=target.job_id,
            schemas=target.camtrap_dp_schemas,
            survey=survey_of(store, target.job_id),
        )
    except OSError as exc:
        raise ResultsError(
            f"The server could not write the reports ({exc.strerror or exc}). Your upload is kept."
        ) from exc
    t = clock.add("report", t)
    # generators: nothing per image is held while the zip is written
    rename = (
        (lambda record, name: sorted_name(record, name, run.threshold))
        if run.sorted_copies
        else (lambda record, name: name)
    )
    annotated = (
        _annotated_entries(
            counted(iter_media(store, target.job_id), "zip", progress), copies, rename
        )
        if copies is not None
        else iter(())
    )
    report_files = ((name, reports / name, True) for name in REPORT_FILES)
    entries: Iterator[tuple[str, Source, bool]] = itertools.chain(annotated, report_files)
    if not write_result_zip(target.result_zip, entries, may_publish):
        raise JobLost("this model server no longer owns the job; its zip was not published")
    clock.add("zip", t)
    return tally, warnings


def counted(
    records: Iterator[MediaRecord],
    stage: str,
    progress: Callable[[str, int], None],
    every: int = 500,
) -> Iterator[MediaRecord]:
    for done, record in enumerate(records, start=1):
        yield record
        if done % every == 0:
            progress(stage, done)


def _annotated_entries(
    records: Iterator[MediaRecord],
    copies: CopySource,
    rename: Callable[[MediaRecord, str], str],
) -> Iterator[tuple[str, Source, bool]]:
    for record in records:
        for name, source in copies(record):
            yield rename(record, name), source, False


def work_folder_copies(folder: Path) -> CopySource:
    """The annotated copies the batch wrote into its work folder."""

    def source(record: MediaRecord) -> list[tuple[str, Source]]:
        found: list[tuple[str, Source]] = []
        if record.annotated:
            found.append((copy_name(record), folder / record.annotated))
        if clip_of(record) and (folder / clip_of(record)).is_file():
            found.append((clip_name(record), folder / clip_of(record)))
        return found

    return source
