"""Animal crops: the box cut from the picture it was found in, and the small copy the class
page shows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

CROP_THUMBNAIL = 160  # long side of the class page's crops, in pixels
MIN_SIDE = 8  # a box this small in pixels says nothing about its species


def crop_box(image: Image.Image, bbox: Sequence[float]) -> Image.Image | None:
    """The normalised box `[x, y, w, h]` cut from `image`; None when it is under 8 pixels on a
    side (nothing to learn from or classify)."""
    width, height = image.size
    x, y, w, h = bbox
    left, top = max(0, round(x * width)), max(0, round(y * height))
    right, bottom = min(width, round((x + w) * width)), min(height, round((y + h) * height))
    if right - left < MIN_SIDE or bottom - top < MIN_SIDE:
        return None
    return image.crop((left, top, right, bottom))


def save_crop(crop: Image.Image, path: Path, quality: int = 85) -> None:
    small = crop.copy()
    small.thumbnail((CROP_THUMBNAIL, CROP_THUMBNAIL), Image.Resampling.BILINEAR)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    small.convert("RGB").save(part, "JPEG", quality=quality)
    part.replace(path)
