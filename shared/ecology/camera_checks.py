"""Each location's camera checks over the cards the caller may see, read from the store: its
clock against the sun (`clock_check`, for each deployment period, since a camera's clock is set
at each visit), its times against the calendar, runs of black or white frames (`exposure`) and
lasting changes of view (`view_check`). Times are the periods' corrected ones where a person
fixed a clock, so a fixed clock checks out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, select

from shared.ecology.clock_check import (
    COLOUR_ABOVE,
    TWILIGHT,
    ClockShift,
    Frame,
    clock_looks_off,
    clock_shift,
    time_warnings,
)
from shared.ecology.exposure import exposed, exposure_warnings
from shared.ecology.findings import Finding
from shared.ecology.sun import camera_zone, sun_elevation
from shared.ecology.survey import offset_of
from shared.ecology.view_check import ViewFrame, layout_vector, view_changes
from shared.store.schema import deployment_periods, media
from shared.store.snapshot import Reader
from shared.surveys.locations import Location, locations_of
from shared.surveys.periods import Period, periods_of

LATEST_ZONE = timedelta(hours=14)  # UTC+14, Kiribati: no camera clock is further ahead


@dataclass(frozen=True)
class CameraCheck:
    location_id: int
    name: str
    clock: ClockShift | None = None  # the whole location's photos (each period's are findings)
    findings: list[Finding] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)

    @property
    def clock_off(self) -> bool:
        return any(f.kind == "clock" for f in self.findings)

    @property
    def uncorrected_periods(self) -> set[int]:
        """The periods whose clock still looks off."""
        return {f.period for f in self.findings if f.kind == "clock" and f.period is not None}

    @property
    def warnings(self) -> list[str]:
        return [f.text for f in self.findings]

    def public(self) -> dict[str, object]:
        return {
            "location": self.location_id,
            "name": self.name,
            "clock": self.clock.public() if self.clock is not None else None,
            "clock_off": self.clock_off,
            "warnings": self.warnings,
            "findings": [f.public() for f in self.findings],
            "periods": [p.public() for p in self.periods],
        }


def _frames(
    engine: Reader, job_ids: list[str], periods: dict[int, Period]
) -> dict[int, list[Frame]]:
    final = case((media.c.review > "", media.c.verified_outcome), else_=media.c.outcome)
    query = (
        select(
            deployment_periods.c.location_id,
            media.c.period_id,
            media.c.job_id,
            media.c.path,
            media.c.ordinal,
            media.c.captured,
            media.c.chroma,
            media.c.brightness,
            media.c.layout,
            final.label("final"),
        )
        .join(deployment_periods, deployment_periods.c.id == media.c.period_id)
        .where(
            media.c.job_id.in_(job_ids),
            media.c.kind == "image",
            media.c.captured.is_not(None),
        )
    )
    found: dict[int, list[Frame]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query):
            period = periods.get(r.period_id)
            when = r.captured + (period.clock_shift if period is not None else timedelta(0))
            found.setdefault(r.location_id, []).append(
                Frame(
                    r.job_id,
                    r.path,
                    r.ordinal,
                    when,
                    r.chroma,
                    r.brightness,
                    r.layout,
                    r.final == "empty",
                    r.period_id,
                )
            )
    for frames in found.values():
        frames.sort(key=lambda f: (f.captured, f.card, f.ordinal))
    return found


def _clock_text(found: ClockShift, where: str) -> str:
    hours = found.shift_hours
    return (
        f"this camera's clock looks shifted by about {abs(hours)} h{where}: {found.wrong} of "
        f"{found.frames} photos disagree with the sun (infrared by day or colour in the dark); "
        f"adding {hours:+d} h leaves {found.wrong_after}"
    )


def _clock_findings(
    loc: Location, frames: Sequence[Frame], periods: Sequence[Period], zone: timezone
) -> tuple[ClockShift | None, list[Finding]]:
    assert loc.latitude is not None and loc.longitude is not None
    whole = clock_shift(frames, loc.latitude, loc.longitude, zone)
    said: list[Finding] = []
    for period in periods:
        own = [f for f in frames if f.period == period.id]
        found = clock_shift(own, loc.latitude, loc.longitude, zone) if own else None
        if found is not None and clock_looks_off(found):
            where = f" in card {period.job_id[:12]} ({period.deployment or 'its photos'})"
            text = _clock_text(found, where)
            said.append(Finding("clock", text, period=period.id, shift_hours=found.shift_hours))
    if not said and whole is not None and clock_looks_off(whole):
        said.append(Finding("clock", _clock_text(whole, "")))
    return whole, said


def _daylit(loc: Location, when: datetime, zone: timezone | None) -> bool:
    """The sun is up at the location (True where its place is not known)."""
    if zone is None or loc.latitude is None or loc.longitude is None:
        return True
    return sun_elevation(loc.latitude, loc.longitude, when, zone) > TWILIGHT


def _view_findings(loc: Location, frames: Sequence[Frame], zone: timezone | None) -> list[Finding]:
    """The lasting changes of view among the empty day frames; each change's span runs to the
    last photo of that card at the location (what an operation gap would leave out)."""
    day: list[ViewFrame] = []
    for f in frames:
        vector = layout_vector(f.layout)
        if vector is None or not f.empty or not exposed(f):
            continue
        if f.chroma is None or f.chroma <= COLOUR_ABOVE:
            continue  # infrared or unmeasured: not a day frame
        if not _daylit(loc, f.captured, zone):
            continue  # a white flash's colour frame at night
        day.append(ViewFrame(f.card, f.path, f.captured, vector))
    said = []
    for change in view_changes(day):
        card_end = max(f.captured for f in frames if f.card == change.first.card)
        end = card_end if card_end > change.first.captured else None
        said.append(Finding("view", change.text, change.first.captured, end))
    return said


def camera_checks(
    engine: Reader, project_id: int, job_ids: list[str], utc_offset: str, *, now: datetime
) -> list[CameraCheck]:
    """Read only: the caller has matched new cards to locations (`sync_periods`). `now` is
    aware; a camera is ahead by the project's UTC offset, else by the most any clock is."""
    if not job_ids:
        return []
    ahead = offset_of(utc_offset)
    camera_now = (now + (ahead if ahead is not None else LATEST_ZONE)).replace(tzinfo=None)
    wanted = set(job_ids)
    periods = {
        p.id: p
        for found in periods_of(engine, project_id).values()
        for p in found
        if p.job_id in wanted
    }
    frames = _frames(engine, job_ids, periods)
    checks: list[CameraCheck] = []
    for loc in locations_of(engine, project_id):
        mine = frames.get(loc.id, [])
        if not mine:
            continue
        own = sorted(
            (p for p in periods.values() if p.location_id == loc.id),
            key=lambda p: (p.start is None, p.start or datetime.min, p.id),
        )
        set_ups = [p.start for p in own if p.edited and p.start is not None]
        clock: ClockShift | None = None
        findings: list[Finding] = []
        zone = None
        if loc.latitude is not None and loc.longitude is not None:
            zone = camera_zone(ahead, loc.longitude)
            clock, findings = _clock_findings(loc, mine, own, zone)
        findings += time_warnings(mine, now=camera_now, set_up=min(set_ups) if set_ups else None)
        findings += exposure_warnings(mine)
        findings += _view_findings(loc, mine, zone)
        checks.append(CameraCheck(loc.id, loc.name, clock, findings, own))
    return checks
