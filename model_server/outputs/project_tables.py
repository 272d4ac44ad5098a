"""The tables a project's export is made of. Every card's files are named `<card>/<path>` (the
card is the first characters of its job id), so two cards' `DSC_0001.JPG` stay two files. Each
deployment is a deployment period, as Camtrap DP defines a deployment (one camera at one
location over one span): a location's card, numbered in time order (`StationC #2`). Events run
over every card of a location, so a burst that straddles a card swap is one event; it is filed
under the period of its first file."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from model_server.outputs.camtrap_dp.package import SurveyScope
from model_server.outputs.event_tables import EventTables
from shared.camtrap_options import Place
from shared.events.grouping import by_file, described
from shared.events.model import Deployment, Event, Item
from shared.store.snapshot import Reader
from shared.surveys.events import ProjectEvents, card_of, events_as_stored
from shared.surveys.locations import Location
from shared.surveys.periods import Period, periods_of

CARD_LABEL = 12  # characters of the job id that name a card: unique in any real project


def card_label(job_id: str) -> str:
    return job_id[:CARD_LABEL]


def file_key(job_id: str, path: str) -> str:
    """A card's file as the project's outputs name it."""
    return f"{card_label(job_id)}/{path}"


def _relabelled(key: str) -> str:
    job_id, path = card_of(key)
    return file_key(job_id, path) if path else key


@dataclass(frozen=True)
class ProjectTables:
    tables: EventTables
    places: dict[str, Place]  # deployment id -> the location's registered coordinates
    scope: SurveyScope
    cards: dict[str, int]  # job id -> its files that belong to a deployment period
    events: ProjectEvents  # as read from the store, before they were filed by deployment
    deployment_of_period: dict[int, str] = field(default_factory=dict)  # period id -> its row
    clock_shifts: dict[int, timedelta] = field(default_factory=dict)  # corrected periods


def _period_deployment(
    loc: Location, number: int, period: Period, items: list[Item], serial: str
) -> Deployment:
    d = described(
        Deployment(
            f"{loc.name} #{number}",
            loc.name,
            loc.camera_serial or serial,
            [replace(i, path=_relabelled(i.path)) for i in items],
        )
    )
    # what a person set (or the card's span when the period was made) rules over the photos
    d.start, d.end = period.start or d.start, period.end or d.end
    if not (d.make or d.model) and loc.camera_model:
        d.model = loc.camera_model
    return d


def _comment(loc: Location, period: Period, number: int, periods: int) -> str:
    parts = [
        f"Location '{loc.name}', card {card_label(period.job_id)} (period {number} of "
        + f"{periods}; deployment '{period.deployment}' of its upload)"
    ]
    if period.edited:
        parts.append("start and end set by a person")
    if loc.bait:
        parts.append(f"bait: {loc.bait}")
    if loc.notes:
        parts.append(loc.notes)
    return "; ".join(parts) + "; "


def project_tables(
    engine: Reader, project_id: int, job_ids: list[str], gap_seconds: float
) -> ProjectTables:
    """Read only (from the export's snapshot): the caller has matched the cards to their
    locations (`sync_periods`) first."""
    found = events_as_stored(engine, project_id, job_ids, gap_seconds)
    wanted = set(job_ids)
    periods = periods_of(engine, project_id)
    deployments: list[Deployment] = []
    deployment_of: dict[str, str] = {}  # grouped key -> deployment id
    places: dict[str, Place] = {}
    comments: dict[str, str] = {}
    fields: dict[str, dict[str, Any]] = {}
    cards: dict[str, int] = {}
    of_period: dict[int, str] = {}
    shifts: dict[int, timedelta] = {}
    for loc, merged, _ in found.locations:
        by_period: dict[tuple[str, str], list[Item]] = {}
        for item in merged.items:
            by_period.setdefault(found.period_of[item.path], []).append(item)
        mine = [
            p
            for p in periods.get(loc.id, [])
            if p.job_id in wanted and (p.job_id, p.deployment) in by_period
        ]
        for number, period in enumerate(mine, start=1):
            items = by_period[(period.job_id, period.deployment)]
            d = _period_deployment(loc, number, period, items, merged.serial)
            deployments.append(d)
            deployment_of.update((i.path, d.id) for i in items)
            cards[period.job_id] = cards.get(period.job_id, 0) + len(items)
            comments[d.id] = _comment(loc, period, number, len(mine))
            of_period[period.id] = d.id
            if period.clock_shift:
                shifts[period.id] = period.clock_shift
            if loc.place is not None:
                places[d.id] = loc.place
            if loc.camera_height is not None:
                fields[d.id] = {"cameraHeight": loc.camera_height}
    events = [_filed(e, deployment_of) for e in found.events]
    per_deployment: dict[str, int] = {}
    for e in events:
        per_deployment[e.deployment] = per_deployment.get(e.deployment, 0) + 1
    for d in deployments:
        d.events = per_deployment.get(d.id, 0)
    return ProjectTables(
        EventTables(deployments, events, by_file(events)),
        places,
        SurveyScope(comments, fields),
        cards,
        found,
        of_period,
        shifts,
    )


def _filed(event: Event, deployment_of: dict[str, str]) -> Event:
    return replace(
        event,
        deployment=deployment_of.get(event.files[0], event.deployment),
        files=[_relabelled(key) for key in event.files],
    )
