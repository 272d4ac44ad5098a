"""What a video's container says about its capture: the `creation_time` tag (never a time
guessed from the file name), camera make and model, and GPS from QuickTime's `©xyz` atom
(FFmpeg reads it as the `location` tag, an ISO 6709 string such as `+47.3769+008.5417+408.0/`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?/?$")
LOCATION_TAGS = ("location", "com.apple.quicktime.location.ISO6709", "location-eng")
MAKE_TAGS = ("make", "com.apple.quicktime.make", "manufacturer")
MODEL_TAGS = ("model", "com.apple.quicktime.model")
# a phone's local capture time with its UTC offset (`2023-05-01T10:00:00+0800`); its
# `creation_time` is then true UTC, not a camera's local time labelled UTC
LOCAL_TIME_TAGS = ("com.apple.quicktime.creationdate", "date")


def parse_iso6709(text: str) -> tuple[float, float, float | None] | None:
    """Latitude, longitude and altitude (metres) from `±DD.DDDD±DDD.DDDD[±AAA.A]/`, or None for
    anything else or a position off the globe."""
    found = ISO6709.match(text.strip())
    if not found:
        return None
    lat, lon = float(found.group(1)), float(found.group(2))
    alt = float(found.group(3)) if found.group(3) else None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon, alt


def parse_creation_time(text: str) -> datetime | None:
    """The tag as the camera's clock wrote it, without a time zone: cameras write their local
    time and most label it UTC, so the digits are kept and the label is not trusted."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.year < 1990:  # an unset clock writes 1904-01-01 (QuickTime's epoch) or 1970
        return None
    return moment.replace(tzinfo=None, microsecond=0)


def parse_local_time(text: str) -> datetime | None:
    """A tag that gives the local time with an explicit offset: its local digits; None when
    it has no offset (nothing says what it means then) or is not a usable date."""
    raw = text.strip()
    if re.search(r"[+-]\d{2}:?\d{2}$", raw) is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.year < 1990:
        return None
    return moment.replace(tzinfo=None, microsecond=0)


def _first(tags: dict[str, str], names: tuple[str, ...]) -> str:
    return next((tags[n].strip() for n in names if tags.get(n, "").strip()), "")


def container_metadata(container: Any, stream: Any) -> dict[str, Any]:
    """The media columns a video fills, in the shape EXIF metadata has."""
    tags = {**dict(stream.metadata), **dict(container.metadata)}
    meta: dict[str, Any] = {"make": _first(tags, MAKE_TAGS), "model": _first(tags, MODEL_TAGS)}
    notes = []
    raw_time = tags.get("creation_time", "")
    local = next(
        (
            (name, found)
            for name in LOCAL_TIME_TAGS
            if (found := parse_local_time(tags.get(name, ""))) is not None
        ),
        None,
    )
    captured = parse_creation_time(raw_time) if raw_time else None
    if local is not None:  # a phone: its own local time beats the UTC creation_time
        meta.update(captured=local[1].isoformat(), captured_from=f"{local[0]} (container)")
    elif captured is not None:
        meta.update(captured=captured.isoformat(), captured_from="creation_time (container)")
    elif raw_time:
        notes.append(f"creation_time {raw_time!r} is not a usable date")
    else:
        notes.append("no capture time in the container")
    raw_place = _first(tags, LOCATION_TAGS)
    if raw_place:
        place = parse_iso6709(raw_place)
        if place is None:
            notes.append(f"location {raw_place!r} is not a usable position")
        else:
            meta.update(
                latitude=place[0],
                longitude=place[1],
                altitude_m=place[2],
                altitude_ref="above sea level" if place[2] is not None else "",
            )
    meta["exif_notes"] = "; ".join(notes)
    return meta
