"""The small JPEGs the browser shows for each image (a gallery thumbnail and a web-sized
rendition for the viewer), so it never decodes full-size photos."""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_QUALITY = 80


def thumbnail_jpeg(image: Image.Image, long_side: int) -> bytes:
    """`image` scaled to `long_side` pixels on its longer side (never enlarged), as JPEG.
    `reducing_gap` lets Pillow shrink by whole factors first, so a 100-megapixel photo costs
    little more than a small one."""
    scale = min(1.0, long_side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    if small.mode != "RGB":
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()
