"""The ecology tables as rows of text, one layout for the API's CSV answers and the project
export's files and sheets, so the two never drift."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from shared.ecology.abundance import Abundance
from shared.ecology.effort import Gap
from shared.ecology.survey import SurveyEcology
from shared.ecology.timing import Timed

Cell = str | int | float | None
Rows = list[list[Cell]]


def _number(value: float | None) -> Cell:
    return None if value is None else round(value, 4)


def cell_text(value: Cell) -> str:
    """A cell as CSV writes it: blank for none, numbers without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def gap_text(gaps: Sequence[Gap]) -> str:
    """Gaps in one cell: `start – end (reason, by)`; what Camtrap DP's comments say."""
    return "; ".join(
        f"{g.start.isoformat(timespec='seconds')} – {g.end.isoformat(timespec='seconds')} "
        f"({g.reason}{', ' + g.by if g.by else ''})"
        for g in gaps
    )


def effort_rows(survey: SurveyEcology) -> Rows:
    rows: Rows = [
        [
            "location",
            "latitude",
            "longitude",
            "start",
            "end",
            "periods",
            "gaps",
            "gap_days",
            "trap_nights",
        ]
    ]
    for e in sorted(survey.effort.values(), key=lambda e: e.name):
        loc = survey.locations[e.location_id]
        rows.append(
            [
                e.name,
                loc.latitude,
                loc.longitude,
                e.start.isoformat(timespec="seconds") if e.start else None,
                e.end.isoformat(timespec="seconds") if e.end else None,
                len(e.periods),
                gap_text(e.gaps),
                _number(e.gap_days),
                _number(e.days),
            ]
        )
    total = sum(e.days for e in survey.effort.values())
    rows.append(["(survey)", None, None, None, None, None, None, None, _number(total)])
    return rows


def abundance_rows(found: Sequence[Abundance], interval_minutes: float) -> Rows:
    rows: Rows = [
        [
            "location",
            "species",
            "independent_events",
            "individuals",
            "trap_nights",
            "rai_per_100_trap_nights",
            "independence_minutes",
        ]
    ]
    for a in found:
        rows.append(
            [
                a.location,
                a.species,
                a.events,
                a.individuals,
                _number(a.trap_nights),
                _number(a.rai),
                interval_minutes,
            ]
        )
    return rows


def activity_rows(found: Sequence[Timed]) -> Rows:
    rows: Rows = [
        [
            "location",
            "species",
            "start",
            "clock_hours",
            "sunrise",
            "sunset",
            "sun_hours",
            "hours_from_sunrise",
            "hours_from_sunset",
        ]
    ]
    for t in found:
        rows.append(
            [
                t.location,
                t.species,
                t.start.isoformat(timespec="seconds"),
                _number(t.clock_hours),
                t.sunrise.isoformat(timespec="seconds") if t.sunrise else None,
                t.sunset.isoformat(timespec="seconds") if t.sunset else None,
                _number(t.sun_hours),
                _number(t.from_sunrise),
                _number(t.from_sunset),
            ]
        )
    return rows


def as_csv(rows: Rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([cell_text(c) for c in r] for r in rows)
    return out.getvalue()
