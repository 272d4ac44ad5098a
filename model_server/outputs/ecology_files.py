"""A project export's ecology: effort, relative abundance and activity as CSV files and Excel
sheets, and each species' detection history with its effort matrix in `occupancy/` (the layout
`unmarked` and camtrapR read)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.ecology.abundance import abundance
from shared.ecology.histories import detection_history, history_csv_rows
from shared.ecology.survey import SurveyEcology
from shared.ecology.tables import Rows, abundance_rows, activity_rows, as_csv, effort_rows
from shared.ecology.timing import timed
from shared.inputs import plain_name

OCCUPANCY = "occupancy"


@dataclass(frozen=True)
class EcologyTable:
    file: str  # its path in the export
    rows: Rows
    sheet: str = ""  # its Excel sheet; "" for none


def ecology_tables(survey: SurveyEcology, occasion_days: int) -> list[EcologyTable]:
    minutes = survey.interval_seconds / 60
    found = [
        EcologyTable("effort.csv", effort_rows(survey), "Effort"),
        EcologyTable(
            "abundance.csv",
            abundance_rows(abundance(survey.detections, survey.effort), minutes),
            "Abundance",
        ),
        EcologyTable("activity.csv", activity_rows(timed(survey)), "Activity"),
    ]
    for species in sorted({d.species for d in survey.detections}):
        history = detection_history(survey.detections, survey.effort, species, occasion_days)
        stem = plain_name(species).replace(" ", "_")
        found.append(EcologyTable(f"{OCCUPANCY}/{stem}-detections.csv", history_csv_rows(history)))
        found.append(
            EcologyTable(f"{OCCUPANCY}/{stem}-effort.csv", history_csv_rows(history, "effort"))
        )
    return found


def write_ecology_files(tables: list[EcologyTable], out_dir: Path) -> None:
    for table in tables:
        path = out_dir / table.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(as_csv(table.rows), encoding="utf-8-sig", newline="")
