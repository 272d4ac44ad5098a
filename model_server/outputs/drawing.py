"""Drawing labelled boxes on the image the user sees, and encoding the annotated copy."""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image, ImageDraw, ImageFont

from model_server.detectors.base import Category, Detection

COLOURS: dict[Category, tuple[int, int, int]] = {
    Category.ANIMAL: (255, 190, 0),  # amber
    Category.PERSON: (0, 160, 255),  # blue
    Category.VEHICLE: (230, 40, 200),  # magenta
}
SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}


def draw_detections(image: Image.Image, detections: Iterable[Detection], threshold: float) -> int:
    """Draws in place every detection at or above `threshold`; returns how many were drawn."""
    boxes = [
        (d.bbox, d.category, f"{d.category.label} {d.conf:.1%}")
        for d in sorted(detections, key=lambda d: d.conf)
        if d.conf >= threshold
    ]
    return draw_boxes(image, boxes)


def draw_boxes(
    image: Image.Image, boxes: Iterable[tuple[tuple[float, float, float, float], Category, str]]
) -> int:
    """Draws each (normalised bbox, category, label) in place, later ones on top."""
    short_side = min(image.size)
    width = max(2, round(short_side / 250))
    font = ImageFont.load_default(size=max(12, round(short_side / 40)))
    draw = ImageDraw.Draw(image)
    drawn = 0
    for (x, y, w, h), category, label in boxes:
        box = (x * image.width, y * image.height, (x + w) * image.width, (y + h) * image.height)
        colour = COLOURS[category]
        draw.rectangle(box, outline=colour, width=width)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        text_h, text_w = bottom - top + 2 * width, right - left + 2 * width
        # The label sits above the box, or inside its top edge when the box touches the top.
        label_y = box[1] - text_h if box[1] >= text_h else box[1]
        draw.rectangle((box[0], label_y, box[0] + text_w, label_y + text_h), fill=colour)
        draw.text((box[0] + width, label_y + width - top), label, fill=(0, 0, 0), font=font)
        drawn += 1
    return drawn


# The largest side each format can hold, and the largest EXIF block a JPEG APP1 segment holds.
SIDE_LIMITS = {"JPEG": 65_500, "WEBP": 16_383}
JPEG_MAX_EXIF = 65_533


def encode_copy(
    image: Image.Image, suffix: str, exif: bytes, jpeg_quality: int
) -> tuple[bytes, list[str]]:
    """The annotated copy, made to fit its format: scaled down where the format cannot hold the
    image's size, written without the original EXIF where that block cannot be stored. Returns
    the bytes and a note for each change, for the report."""
    notes: list[str] = []
    fmt = SAVE_FORMATS.get(suffix.lower(), "JPEG")
    limit = SIDE_LIMITS.get(fmt)
    if limit and max(image.size) > limit:
        scale = limit / max(image.size)
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        notes.append(
            f"annotated copy scaled down to {size[0]}x{size[1]}: {fmt} holds at most "
            f"{limit} pixels a side"
        )
        image = image.resize(size, Image.Resampling.LANCZOS)
    if exif and fmt == "JPEG" and len(exif) > JPEG_MAX_EXIF:
        notes.append(
            f"annotated copy has no EXIF: the original's {len(exif):,}-byte block is "
            "larger than a JPEG can hold"
        )
        exif = b""
    try:
        return encode(image, suffix, exif, jpeg_quality), notes
    except (ValueError, OSError) as exc:
        if not exif:
            raise
        notes.append(f"annotated copy has no EXIF: it could not be written ({exc})")
        return encode(image, suffix, b"", jpeg_quality), notes


def encode(image: Image.Image, suffix: str, exif: bytes, jpeg_quality: int) -> bytes:
    """The annotated copy in the original's format, carrying its EXIF (date, camera, GPS)."""
    fmt = SAVE_FORMATS.get(suffix.lower(), "JPEG")
    options: dict[str, object] = {}
    if exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["exif"] = exif
    if fmt == "JPEG":
        options.update(quality=jpeg_quality, optimize=False)
    elif fmt == "WEBP":
        options.update(quality=jpeg_quality)
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()
