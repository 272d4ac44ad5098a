"""Each detection's time on the clock and on the sun's clock at its location, for activity
charts and the activity table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from shared.ecology.sun import HOUR, SunDay, camera_zone, hours_of, sun_day, sun_hours
from shared.ecology.survey import SurveyEcology


@dataclass(frozen=True)
class Timed:
    location: str
    species: str
    start: datetime
    clock_hours: float
    sunrise: datetime | None
    sunset: datetime | None
    sun_hours: float | None  # double-anchored: sunrise 6 h, sunset 18 h
    from_sunrise: float | None  # hours after that day's sunrise (negative: before it)
    from_sunset: float | None

    def public(self) -> dict[str, object]:
        def at(t: datetime | None) -> str | None:
            return t.isoformat(timespec="seconds") if t else None

        def hours(h: float | None) -> float | None:
            return None if h is None else round(h, 4)

        return {
            "location": self.location,
            "species": self.species,
            "start": at(self.start),
            "clock_hours": hours(self.clock_hours),
            "sunrise": at(self.sunrise),
            "sunset": at(self.sunset),
            "sun_hours": hours(self.sun_hours),
            "from_sunrise": hours(self.from_sunrise),
            "from_sunset": hours(self.from_sunset),
        }


def timed(survey: SurveyEcology, species: str | None = None) -> list[Timed]:
    """The detections (of one species, or all) with their sun times where the location has
    coordinates, in time order."""
    days: dict[tuple[int, date], SunDay] = {}
    zones: dict[int, timezone] = {}
    found: list[Timed] = []
    for d in sorted(survey.detections, key=lambda d: (d.start, d.location_id)):
        if species is not None and d.species != species:
            continue
        loc = survey.locations[d.location_id]
        day = SunDay(None, None)
        if loc.latitude is not None and loc.longitude is not None:
            zone = zones.setdefault(loc.id, camera_zone(survey.offset, loc.longitude))
            key = (loc.id, d.start.date())
            if key not in days:
                days[key] = sun_day(loc.latitude, loc.longitude, d.start.date(), zone)
            day = days[key]
        found.append(
            Timed(
                loc.name,
                d.species,
                d.start,
                hours_of(d.start),
                day.sunrise,
                day.sunset,
                sun_hours(d.start, day),
                (d.start - day.sunrise) / HOUR if day.sunrise else None,
                (d.start - day.sunset) / HOUR if day.sunset else None,
            )
        )
    return found
