"""The small JPEGs the browser shows for each image (a gallery thumbnail and a web-sized
rendition for the viewer), so it never decodes full-size photos."""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_QUALITY = 80


def scaled(image: Image.Image, long_side: int) -> Image.Image:
    """`image` at `long_side` pixels on its longer side (never enlarged). Bilinear (Pillow's
    filters average over the whole footprint when shrinking): measured on the shared trap
    photos, 17.8 ms a photo for the 1280 px view against bicubic's 28.6, for a picture that is
    only looked at. `reducing_gap` shrinks by whole factors first, so a 100-megapixel photo
    costs little more than a small one."""
    scale = min(1.0, long_side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    return small if small.mode == "RGB" else small.convert("RGB")


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def thumbnail_jpeg(image: Image.Image, long_side: int) -> bytes:
    return jpeg(scaled(image, long_side))


def renditions(image: Image.Image, view_size: int, thumbnail_size: int) -> tuple[bytes, bytes]:
    """The viewer's rendition and the gallery's thumbnail; the thumbnail is scaled from the
    rendition, not from the full photo (a quarter of the pixels to read)."""
    view = scaled(image, view_size)
    return jpeg(view), jpeg(scaled(view, thumbnail_size))
