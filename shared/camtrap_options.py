"""What a job needs to publish its results as Camtrap DP: the cameras' UTC offset (camera clocks
keep local time without saying which) and the coordinates of deployments whose photos carry no
GPS. Checked the same way by the upload page, the job page, the API and the batch command."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta, timezone
from typing import Any

DEFAULT_UTC_OFFSET = "+00:00"
MAX_PLACES = 10_000
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")

# one deployment's position: (latitude, longitude) in decimal degrees, WGS84
Place = tuple[float, float]


def parse_utc_offset(raw: str) -> str:
    """`+02:00`, `-0530`, `+2`, `UTC+1`, `Z` or `UTC` -> the canonical `+HH:MM`."""
    text = raw.strip().upper()
    if text in ("Z", "UTC", "GMT", "0"):
        return DEFAULT_UTC_OFFSET
    match = _OFFSET.match(text)
    if not match:
        raise ValueError(f"the UTC offset {raw!r} is not like +02:00 or -05:30")
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
        raise ValueError(f"the UTC offset {raw!r} is outside -14:00 to +14:00")
    return f"{sign}{hours:02d}:{minutes:02d}"


def offset_zone(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def parse_place(latitude: str | float, longitude: str | float, where: str = "") -> Place:
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}latitude and longitude must be decimal degrees, "
            f"not {latitude!r}, {longitude!r}"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(
            f"{where}latitude must be -90 to 90 and longitude -180 to 180, not {lat:g}, {lon:g}"
        )
    if lat == 0 and lon == 0:
        raise ValueError(f"{where}0, 0 is where unset GPS points, not a camera")
    return lat, lon


def parse_places(text: str) -> dict[str, Place]:
    """A CSV `deployment,latitude,longitude` (a header row with those names, or none) -> the
    coordinates per deployment (a deployment's id or its folder, as the report's Deployments
    sheet names them)."""
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0][:3]] == ["deployment", "latitude", "longitude"]:
        rows = rows[1:]
    if len(rows) > MAX_PLACES:
        raise ValueError(f"at most {MAX_PLACES} deployments, not {len(rows)}")
    places: dict[str, Place] = {}
    for number, row in enumerate(rows, start=1):
        where = f"line {number}: "
        if len(row) != 3:
            raise ValueError(
                f"{where}expected deployment,latitude,longitude, got {len(row)} values"
            )
        name = row[0].strip()
        if not name:
            raise ValueError(f"{where}the deployment name is empty")
        if name in places:
            raise ValueError(f"{where}{name!r} is given twice")
        places[name] = parse_place(row[1].strip(), row[2].strip(), where)
    return places


def places_from_json(raw: Any) -> dict[str, Place]:
    """Coordinates as a job's options keep them ({deployment: [lat, lon]}), checked again."""
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): parse_place(pair[0], pair[1], f"{name}: ")
        for name, pair in raw.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    }


# Where a camera's position in the outputs comes from (Deployments sheet and CSV, GeoJSON)
GIVEN = "given by the uploader"
FROM_GPS = "median of its files' GPS"
