"""Images made by the tests themselves: a red 'animal' patch, optional EXIF, broken files."""

from __future__ import annotations

import io
import struct
import zlib

import piexif
from PIL import Image

RED = (255, 0, 0)


def red_patch_image(size: tuple[int, int], patch: tuple[int, int, int, int]) -> Image.Image:
    """A grey image of `size` (w, h) with a pure-red rectangle at `patch` (x0, y0, x1, y1)."""
    image = Image.new("RGB", size, (90, 110, 90))
    image.paste(RED, patch)
    return image


def exif_block(
    *,
    orientation: int = 1,
    when: str = "2021:06:01 05:30:00",
    gps: tuple[float, float] | None = (-33.5, 151.25),
) -> bytes:
    """EXIF with a capture time, a camera and (optionally) a south/east GPS position."""

    def dms(value: float) -> tuple[tuple[int, int], ...]:
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return ((d, 1), (m, 1), (s, 100))

    data: dict = {
        "0th": {
            piexif.ImageIFD.Make: b"TestCam",
            piexif.ImageIFD.Model: b"Trail 1",
            piexif.ImageIFD.Orientation: orientation,
        },
        "Exif": {piexif.ExifIFD.DateTimeOriginal: when.encode()},
        "GPS": {},
    }
    if gps is not None:
        lat, lon = gps
        data["GPS"] = {
            piexif.GPSIFD.GPSLatitudeRef: b"S" if lat < 0 else b"N",
            piexif.GPSIFD.GPSLatitude: dms(lat),
            piexif.GPSIFD.GPSLongitudeRef: b"W" if lon < 0 else b"E",
            piexif.GPSIFD.GPSLongitude: dms(lon),
        }
    return piexif.dump(data)


def jpeg_bytes(image: Image.Image, exif: bytes = b"") -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def png_bomb_header(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with almost no data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
