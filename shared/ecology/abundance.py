"""Relative abundance index: independent events of a species per 100 trap nights, per location
and over the survey (every location's events over every location's trap nights). Only events
that start while the camera was operating count, so a gap takes its events with its nights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.ecology.effort import LocationEffort
from shared.ecology.records import Detection

SURVEY = "(survey)"


@dataclass(frozen=True)
class Abundance:
    location: str  # a location's name, or SURVEY
    species: str
    events: int
    individuals: int
    trap_nights: float

    @property
    def rai(self) -> float | None:
        return 100 * self.events / self.trap_nights if self.trap_nights > 0 else None

    def public(self) -> dict[str, object]:
        rai = self.rai
        return {
            "location": self.location,
            "species": self.species,
            "events": self.events,
            "individuals": self.individuals,
            "trap_nights": round(self.trap_nights, 4),
            "rai": None if rai is None else round(rai, 4),
        }


def operating(d: Detection, effort: LocationEffort) -> bool:
    return any(s.start <= d.start <= s.end for s in effort.operating)


def abundance(
    detections: Sequence[Detection], effort: Mapping[int, LocationEffort]
) -> list[Abundance]:
    """Every species at every location (0 where it was not seen), then the survey's rows."""
    species = sorted({d.species for d in detections})
    tally: dict[tuple[int, str], tuple[int, int]] = {}
    for d in detections:
        if d.location_id in effort and operating(d, effort[d.location_id]):
            events, animals = tally.get((d.location_id, d.species), (0, 0))
            tally[(d.location_id, d.species)] = (events + 1, animals + d.count)
    rows: list[Abundance] = []
    places = sorted(effort.values(), key=lambda e: e.name)
    for name in species:
        for e in places:
            events, animals = tally.get((e.location_id, name), (0, 0))
            rows.append(Abundance(e.name, name, events, animals, e.days))
    total = sum(e.days for e in places)
    for name in species:
        found = [tally.get((e.location_id, name), (0, 0)) for e in places]
        rows.append(
            Abundance(SURVEY, name, sum(f[0] for f in found), sum(f[1] for f in found), total)
        )
    return rows
