"""Sun times: when the sun rose and set at a location on a date (astral, NOAA's equations), and
a camera's clock time put on the sun's clock by double anchoring (Nouvellet et al. 2012, as
overlap's `sunTime`): midnight stays 0 h, sunrise becomes 6 h and sunset 18 h, linear between,
so activity at dawn lines up across a season whose day length changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from astral import Observer
from astral.sun import elevation, sunrise, sunset

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SunDay:
    """Sunrise and sunset on the camera's clock (None under polar day or night)."""

    sunrise: datetime | None
    sunset: datetime | None


def camera_zone(offset: timedelta | None, longitude: float) -> timezone:
    """The camera clock's zone: the project's UTC offset, else the local mean solar time of the
    longitude (4 minutes per degree), which is what an unset clock is closest to."""
    if offset is None:
        offset = timedelta(minutes=round(longitude * 4))
    return timezone(offset)


def sun_day(latitude: float, longitude: float, day: date, zone: timezone) -> SunDay:
    """`day`'s sunrise and sunset at the place, as naive times on the camera's clock."""
    where = Observer(latitude, longitude)
    found: list[datetime | None] = []
    for event in (sunrise, sunset):
        try:
            found.append(event(where, day, tzinfo=zone).replace(tzinfo=None))
        except ValueError:  # the sun never rises or never sets that day
            found.append(None)
    return SunDay(found[0], found[1])


def sun_elevation(latitude: float, longitude: float, at: datetime, zone: timezone) -> float:
    """Degrees of the sun above the horizon at the camera-clock time `at`."""
    return float(elevation(Observer(latitude, longitude), at.replace(tzinfo=zone)))


def hours_of(at: datetime) -> float:
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return (at - midnight) / HOUR


def sun_hours(at: datetime, day: SunDay) -> float | None:
    """`at` on the sun's clock, 0-24 h (None when the sun did not both rise and set)."""
    if day.sunrise is None or day.sunset is None:
        return None
    t, rise, set_ = hours_of(at), hours_of(day.sunrise), hours_of(day.sunset)
    if not 0 < rise < set_ < 24:
        return None
    if t < rise:
        return t * 6 / rise
    if t <= set_:
        return 6 + (t - rise) * 12 / (set_ - rise)
    return 18 + (t - set_) * 6 / (24 - set_)
