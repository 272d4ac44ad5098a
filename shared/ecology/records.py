"""What the ecology figures are made of: each independent event as one detection of one species
at one location, and each location's camera facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events.model import Event

ANIMAL = "animal"


@dataclass(frozen=True)
class Detection:
    location_id: int
    start: datetime
    species: str  # the reviewed name, else the class set's suggestion, else "animal"
    count: int  # animals in it (its MaxN, or the reviewer's count for the event)
    source: str  # "reviewed", "suggested" or "machine"


def event_species(event: Event, suggested: dict[str, int]) -> tuple[str, str] | None:
    """(species, where the name comes from) of an event with an animal: the name a reviewer
    gave the whole event, else the one reviewers named on most of its boxes, else the
    suggestion made most often, else "animal"; None when it holds no animal."""
    if not event.counts.get(ANIMAL) and not event.species:
        return None
    if event.tag is not None and event.tag.species:
        return event.tag.species, "reviewed"
    if event.species:
        return max(event.species.items(), key=lambda kv: (kv[1], kv[0]))[0], "reviewed"
    if suggested:
        return max(suggested.items(), key=lambda kv: (kv[1], kv[0]))[0], "suggested"
    return ANIMAL, "machine"
