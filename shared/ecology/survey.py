"""A survey's ecology data read from the store: each location's effort (its periods of the
cards the caller may see, minus the gaps people recorded and the silences found) and each
independent event as a detection of one species. Events are regrouped at the interval asked
for (1, 5, 30 or 60 minutes, or the project's event gap), so the same photos can be counted at
another independence interval without touching the review."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from shared.camtrap_options import offset_zone
from shared.ecology.effort import Gap, LocationEffort, Span, location_effort, silent_gaps
from shared.ecology.gaps import gaps_of
from shared.ecology.records import Detection, event_species
from shared.store.snapshot import Reader
from shared.store.species_data import suggestions_by_file
from shared.surveys.events import ProjectEvents, card_of, events_as_stored
from shared.surveys.locations import Location
from shared.surveys.periods import periods_of

INTERVALS_MINUTES = (1, 5, 30, 60)


@dataclass(frozen=True)
class SurveyEcology:
    locations: dict[int, Location]
    effort: dict[int, LocationEffort]
    detections: list[Detection]
    offset: timedelta | None  # the cameras' UTC offset; None when the project has none
    interval_seconds: float


def offset_of(utc_offset: str) -> timedelta | None:
    zone = offset_zone(utc_offset) if utc_offset else None
    return zone.utcoffset(None) if zone is not None else None


def survey_ecology(
    engine: Reader,
    project_id: int,
    job_ids: list[str],
    interval_seconds: float,
    silent_days: float,
    utc_offset: str = "",
    *,
    events: ProjectEvents | None = None,
) -> SurveyEcology:
    """Read only: the caller has matched new cards to locations (`sync_periods`). `events`:
    the same cards' events grouped at `interval_seconds` where the caller has them already
    (the project export), so a season's files are not read twice."""
    found = events or events_as_stored(engine, project_id, job_ids, interval_seconds)
    wanted = set(job_ids)
    spans: dict[int, list[Span]] = {}
    for location_id, periods in periods_of(engine, project_id).items():
        for p in periods:
            if p.job_id in wanted and p.start is not None and p.end is not None:
                spans.setdefault(location_id, []).append(Span(p.start, p.end))
    places = {loc.id: loc for loc, _, _ in found.locations}
    by_name = {loc.name: loc.id for loc in places.values()}
    times = {
        loc.id: [i.captured for i in merged.items if i.captured is not None]
        for loc, merged, _ in found.locations
    }
    found_gaps = silent_gaps(times, spans, silent_days)
    recorded = gaps_of(engine, project_id)
    effort: dict[int, LocationEffort] = {}
    for location_id, loc in places.items():
        gaps: list[Gap] = [*recorded.get(location_id, []), *found_gaps.get(location_id, [])]
        effort[location_id] = location_effort(
            location_id, loc.name, spans.get(location_id, []), gaps
        )
    suggested: dict[str, dict[str, int]] = {}
    for job_id in sorted({card_of(path)[0] for e in found.events for path in e.files}):
        for path, names in suggestions_by_file(engine, job_id).items():
            suggested[f"{job_id}/{path}"] = names
    detections: list[Detection] = []
    for event in found.events:
        if event.start is None or event.deployment not in by_name:
            continue
        votes: Counter[str] = Counter()
        for key in event.files:
            votes.update(suggested.get(key, {}))
        named = event_species(event, dict(votes))
        if named is None:
            continue
        count = (
            event.tag.count
            if event.tag is not None
            else max(event.species.get(named[0], 0), event.counts.get("animal", 0), 1)
        )
        detections.append(
            Detection(by_name[event.deployment], event.start, named[0], count, named[1])
        )
    return SurveyEcology(places, effort, detections, offset_of(utc_offset), interval_seconds)
