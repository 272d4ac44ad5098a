"""Each location's camera checks over the cards the caller may see: its clock against the sun
(`clock_check`) and its times against the calendar, read from the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from shared.ecology.clock_check import (
    ClockShift,
    Frame,
    clock_looks_off,
    clock_shift,
    time_warnings,
)
from shared.ecology.exposure import exposure_warnings
from shared.ecology.sun import camera_zone
from shared.ecology.survey import offset_of
from shared.store.schema import deployment_periods, media
from shared.store.snapshot import Reader
from shared.surveys.locations import locations_of
from shared.surveys.periods import periods_of


@dataclass(frozen=True)
class CameraCheck:
    location_id: int
    name: str
    clock: ClockShift | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def clock_off(self) -> bool:
        return self.clock is not None and clock_looks_off(self.clock)

    def public(self) -> dict[str, object]:
        said = list(self.warnings)
        if self.clock is not None and self.clock_off:
            hours = self.clock.shift_hours
            said.insert(
                0,
                f"this camera's clock looks shifted by about {abs(hours)} h: "
                f"{self.clock.wrong} of {self.clock.frames} photos disagree with the sun "
                f"(infrared by day or colour in the dark); adding {hours:+d} h leaves "
                f"{self.clock.wrong_after}",
            )
        return {
            "location": self.location_id,
            "name": self.name,
            "clock": self.clock.public() if self.clock is not None else None,
            "clock_off": self.clock_off,
            "warnings": said,
        }


def _frames(engine: Reader, job_ids: list[str]) -> dict[int, list[Frame]]:
    query = (
        select(
            deployment_periods.c.location_id,
            media.c.job_id,
            media.c.path,
            media.c.ordinal,
            media.c.captured,
            media.c.chroma,
            media.c.brightness,
        )
        .join(deployment_periods, deployment_periods.c.id == media.c.period_id)
        .where(
            media.c.job_id.in_(job_ids),
            media.c.kind == "image",
            media.c.captured.is_not(None),
        )
        .order_by(media.c.captured, media.c.id)
    )
    found: dict[int, list[Frame]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query):
            found.setdefault(r.location_id, []).append(
                Frame(r.job_id, r.path, r.ordinal, r.captured, r.chroma, r.brightness)
            )
    return found


def camera_checks(
    engine: Reader, project_id: int, job_ids: list[str], utc_offset: str, *, now: datetime
) -> list[CameraCheck]:
    """Read only: the caller has matched new cards to locations (`sync_periods`). `now` on
    the cameras' clock (naive)."""
    if not job_ids:
        return []
    frames = _frames(engine, job_ids)
    periods = periods_of(engine, project_id)
    offset = offset_of(utc_offset)
    checks: list[CameraCheck] = []
    for loc in locations_of(engine, project_id):
        mine = frames.get(loc.id, [])
        if not mine:
            continue
        set_ups = [p.start for p in periods.get(loc.id, []) if p.edited and p.start is not None]
        clock = None
        if loc.latitude is not None and loc.longitude is not None:
            zone = camera_zone(offset, loc.longitude)
            clock = clock_shift(mine, loc.latitude, loc.longitude, zone)
        warnings = time_warnings(mine, now=now, set_up=min(set_ups) if set_ups else None)
        warnings += exposure_warnings(mine)
        checks.append(CameraCheck(loc.id, loc.name, clock, warnings))
    return checks
