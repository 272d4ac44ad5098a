"""Decoding one photo safely, once, the way the user sees it (EXIF orientation applied)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import ImageError

FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")  # MPO (multi-picture JPEG) opens as JPEG


@contextmanager
def image_errors() -> Iterator[None]:
    """Turns everything Pillow raises on bad data into an ImageError fit for an error row."""
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89.5 megapixels on; the limit here is the setting's
            # (`max_image_pixels`, 120 by default), checked by `open_checked` from the header
            # before any pixel is decoded. Pillow's own error (over twice its warning) stays.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("not a readable image (JPEG, PNG, TIFF, BMP or WebP expected)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("image dimensions are over the safety limit for decoding") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageError(f"image data is damaged or truncated ({exc})") from None


def open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Reads only the header: the size is checked before a single pixel is decoded."""
    if not data:
        raise ImageError("file is empty (0 bytes)")
    with image_errors():
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        if image.width * image.height > max_pixels:
            raise ImageError(
                f"image is {image.width}x{image.height} pixels, over the safety limit of "
                f"{max_pixels / 1e6:.0f} megapixels"
            )
        return image


# Thermal and near-infrared cameras write 16-bit (and some tools 32-bit) grayscale.
WIDE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


def to_8bit(image: Image.Image) -> Image.Image:
    """A wide grayscale image scaled to 8 bits by its own value range. Pillow's plain
    conversion clips at 255, which turns a 16-bit frame almost white and hides its animals."""
    values = np.asarray(image, dtype=np.float32)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    span = high - low
    scaled = (
        np.zeros(values.shape, np.uint8)
        if span <= 0
        else np.clip(np.nan_to_num((values - low) * (255.0 / span), nan=0.0), 0, 255)
        .round()
        .astype(np.uint8)
    )
    return Image.fromarray(scaled, mode="L")


STRIP_BYTES = 32 * 1024 * 1024


def pixels_of(image: Image.Image) -> np.ndarray:
    """The RGB pixels as an HxWx3 array. `tobytes()` briefly holds the pixels twice (its pieces,
    then their join): fine for a camera photo, 528 MB at once for an 88-megapixel one, which is
    therefore copied in strips into one array instead."""
    width, height = image.size
    if width * height * 3 <= STRIP_BYTES:
        return np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(height, width, 3)
    out = np.empty((height, width, 3), dtype=np.uint8)
    rows = max(1, STRIP_BYTES // (width * 3))
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows)))
        out[top : top + strip.height] = np.frombuffer(strip.tobytes(), dtype=np.uint8).reshape(
            strip.height, width, 3
        )
    return out


def upright_rgb(image: Image.Image) -> tuple[Image.Image, bytes]:
    """Decoded RGB pixels as the user sees them, and the EXIF block for the annotated copy with
    its orientation tag removed (the pixels are upright now, as MegaDetector reads them)."""
    with image_errors():
        # in place: no second full-size copy of every photo (264 MB for an 88-megapixel frame)
        ImageOps.exif_transpose(image, in_place=True)
        upright = image
        if upright.mode in WIDE_MODES:
            upright.load()
            upright = to_8bit(upright)
        rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
        rgb.load()
    exif = upright.info.get("exif") or image.info.get("exif") or b""
    return rgb, exif if isinstance(exif, bytes) else b""
