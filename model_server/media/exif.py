"""Capture time, camera and GPS from a photo's EXIF, never guessing at broken values.

Pillow reads every GPS layout these cameras write (PITFALLS.md); what it hands back still has to
be checked by hand: empty N/S/E/W references, 0/0 rationals, out-of-range minutes, the 0,0
placeholder. A bad field is left blank with a note; nothing here raises on bad metadata.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image

from shared.store.records import map_link

IFD_EXIF = 0x8769
IFD_GPS = 0x8825
TAG_MAKE, TAG_MODEL, TAG_DATETIME = 0x010F, 0x0110, 0x0132
TAG_ORIGINAL, TAG_DIGITIZED, TAG_BODY_SERIAL = 0x9003, 0x9004, 0xA431
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT = 1, 2, 3, 4, 5, 6
# What Pillow raises on corrupt EXIF blocks (truncated IFDs, bad offsets, wrong types), and what
# defusedxml raises on malformed or hostile XMP (ParseError is a SyntaxError; its refusals of
# entities are ValueErrors). Anything else is a bug worth a traceback in the log.
EXIF_ERRORS = (
    OSError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    SyntaxError,
    struct.error,
    ZeroDivisionError,
    UnicodeDecodeError,
)
XMP_ERRORS = (SyntaxError, ValueError, TypeError, AttributeError)


@dataclass
class PhotoMetadata:
    captured: datetime | None = None
    captured_source: str = ""  # which tag the time came from
    make: str = ""
    model: str = ""
    serial: str = ""
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None
    altitude_ref: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def map_link(self) -> str:
        return map_link(self.latitude, self.longitude)

    def as_dict(self) -> dict[str, Any]:
        return {
            "captured": self.captured.isoformat() if self.captured else None,
            "captured_from": self.captured_source,
            "make": self.make,
            "model": self.model,
            "serial": self.serial,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude_m": self.altitude_m,
            "altitude_ref": self.altitude_ref,
            "map_link": self.map_link,
            "exif_notes": "; ".join(self.notes),
        }


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def parse_exif_datetime(value: Any) -> datetime | None:
    text = _text(value)
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return datetime.strptime(text[:19].strip(), fmt)
        except ValueError:
            continue
    return None


def _dms(value: Any, limit: float) -> float | None:
    """Degrees/minutes/seconds rationals to degrees; None for 0/0, garbage or out of range."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    parts = [_number(v) for v in value]
    numbers = [p for p in parts if p is not None and p >= 0]
    if len(numbers) != len(parts):
        return None
    degrees, minutes, seconds = (numbers + [0.0, 0.0])[:3]
    if minutes >= 60 or seconds >= 60 or (len(value) > 1 and degrees != int(degrees) and minutes):
        return None
    total = degrees + minutes / 60 + seconds / 3600
    return total if total <= limit else None


def _note_if_future(meta: PhotoMetadata, now: datetime) -> None:
    if meta.captured is not None and meta.captured > now:
        meta.notes.append("capture time is in the future: check the camera clock")


DateParser = Callable[[Any], "datetime | None"]


def _first_date(meta: PhotoMetadata, found: Iterable[tuple[str, Any, DateParser]]) -> bool:
    """Takes the first candidate that parses; notes the ones that do not. True when one did."""
    for source, raw, parse in found:
        if raw is None:
            continue
        parsed = parse(raw)
        if parsed is None:
            meta.notes.append(f"{source} {_text(raw)!r} is not a valid date")
            continue
        meta.captured, meta.captured_source = parsed, source
        if source != "DateTimeOriginal":
            meta.notes.append(f"capture time taken from {source}")
        return True
    return False


def _exif_dates(tags: list[tuple[str, int, Any]]) -> list[tuple[str, Any, DateParser]]:
    return [(source, where.get(tag), parse_exif_datetime) for source, tag, where in tags]


# XMP properties that hold when a photo was taken, best first (Lightroom, digiKam and
# Photoshop exports often carry a date only here).
XMP_DATE_KEYS = ("DateTimeOriginal", "CreateDate", "DateCreated")


def _find_xmp_value(node: Any, key: str) -> str | None:
    """The first text value under `key` anywhere in Pillow's nested XMP dictionaries."""
    if isinstance(node, dict):
        value = node.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return str(value["text"])
        children: list[Any] = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_xmp_value(child, key)
        if found is not None:
            return found
    return None


def parse_xmp_datetime(text: str) -> datetime | None:
    """ISO 8601 as XMP writes it; the camera's local wall-clock time, as EXIF gives it, so any
    UTC offset is dropped rather than applied."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=None, microsecond=0)


def _xmp_dates(meta: PhotoMetadata, image: Image.Image) -> list[tuple[str, Any, DateParser]]:
    try:
        xmp = image.getxmp()
    except XMP_ERRORS as exc:  # malformed XML in a packet written by any tool
        meta.notes.append(f"XMP unreadable: {type(exc).__name__}")
        return []
    return [(f"XMP {key}", _find_xmp_value(xmp, key), parse_xmp_datetime) for key in XMP_DATE_KEYS]


def _read_gps(meta: PhotoMetadata, gps: Any, pointer_present: bool) -> None:
    if not gps:
        if pointer_present:
            meta.notes.append("GPS block present but empty or unreadable")
        return
    lat_ref, lon_ref = _text(gps.get(GPS_LAT_REF)).upper(), _text(gps.get(GPS_LON_REF)).upper()
    has_position = GPS_LAT in gps or GPS_LON in gps
    if has_position:
        lat, lon = _dms(gps.get(GPS_LAT), 90.0), _dms(gps.get(GPS_LON), 180.0)
        if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
            meta.notes.append(
                "GPS position ignored: latitude/longitude reference (N/S/E/W) missing"
            )
        elif lat is None or lon is None:
            meta.notes.append("GPS position ignored: coordinates are unreadable or out of range")
        elif lat == 0.0 and lon == 0.0:
            meta.notes.append("GPS position ignored: 0,0 is a camera placeholder, not a location")
        else:
            meta.latitude = round(-lat if lat_ref == "S" else lat, 7)
            meta.longitude = round(-lon if lon_ref == "W" else lon, 7)
    else:
        meta.notes.append("GPS block has no position")
    if GPS_ALT not in gps:
        return
    if meta.latitude is None:
        meta.notes.append("GPS altitude ignored: no valid position")
        return
    altitude = _number(gps.get(GPS_ALT))
    if altitude is None:
        meta.notes.append("GPS altitude ignored: unreadable value")
        return
    ref = gps.get(GPS_ALT_REF)
    ref_value = ref[0] if isinstance(ref, bytes) and ref else ref
    if ref_value == 1:
        meta.altitude_m, meta.altitude_ref = -altitude, "below sea level"
    else:
        meta.altitude_m, meta.altitude_ref = altitude, "above sea level"
        if ref_value is None:
            meta.notes.append("GPS altitude reference missing: EXIF default (above sea level) used")
    meta.altitude_m = round(meta.altitude_m, 2)


def read_metadata(image: Image.Image, *, now: datetime) -> PhotoMetadata:
    """Metadata of an opened (not necessarily decoded) image; broken EXIF gives notes, not errors.
    `now` is the clock a capture time is compared with to flag camera clocks set in the future."""
    meta = PhotoMetadata()
    ifd0, exif_ifd = _read_exif(meta, image)
    # DateTime is when the file last changed (an export, an edit): an XMP creation date written
    # by the same tool says more about when the photo was taken.
    found = (
        _first_date(
            meta,
            _exif_dates(
                [
                    ("DateTimeOriginal", TAG_ORIGINAL, exif_ifd),
                    ("DateTimeDigitized", TAG_DIGITIZED, exif_ifd),
                ]
            ),
        )
        or _first_date(meta, _xmp_dates(meta, image))
        or _first_date(meta, _exif_dates([("DateTime", TAG_DATETIME, ifd0)]))
    )
    if not found and "no EXIF metadata" not in meta.notes:
        meta.notes.append("no capture time in EXIF")
    _note_if_future(meta, now)
    return meta


def _read_exif(meta: PhotoMetadata, image: Image.Image) -> tuple[Any, Any]:
    """Camera and GPS facts into `meta`; returns the main and EXIF directories for the dates."""
    try:
        exif = image.getexif()
    except EXIF_ERRORS as exc:
        meta.notes.append(f"EXIF unreadable: {exc}")
        return {}, {}
    if not exif:
        meta.notes.append("no EXIF metadata")
        return {}, {}
    meta.make, meta.model = _text(exif.get(TAG_MAKE)), _text(exif.get(TAG_MODEL))
    exif_ifd: Any = {}
    gps: Any = {}
    try:
        exif_ifd = exif.get_ifd(IFD_EXIF)
    except EXIF_ERRORS as exc:
        meta.notes.append(f"EXIF sub-IFD unreadable: {exc}")
    try:
        gps = exif.get_ifd(IFD_GPS)
    except EXIF_ERRORS as exc:
        meta.notes.append(f"GPS block unreadable: {exc}")
    meta.serial = _text(exif_ifd.get(TAG_BODY_SERIAL))
    _read_gps(meta, gps, IFD_GPS in exif)
    return exif, exif_ifd
