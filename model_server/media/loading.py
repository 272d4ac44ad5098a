"""The loading stage: one photo read, its EXIF parsed and its pixels decoded, on a loader
thread, within the pipeline's budget of decoded pixels."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PIL import Image

from model_server.media.exif import PhotoMetadata, read_metadata
from model_server.media.imaging import open_checked, upright_rgb
from model_server.media.pixel_budget import PixelBudget
from shared.errors import ImageError
from shared.inputs import InputItem

if TYPE_CHECKING:
    from model_server.pipeline.options import StageClock

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    item: InputItem
    image: Image.Image | None = None
    exif: bytes = b""
    metadata: PhotoMetadata | None = None
    error: str | None = None
    pixels: int = 0  # taken from the budget; the writer gives them back


@dataclass(frozen=True)
class LoadContext:
    max_file_bytes: int
    max_image_pixels: int
    clock: StageClock
    now: datetime  # capture times after this are flagged
    budget: PixelBudget


def load_image(item: InputItem, ticket: int, ctx: LoadContext) -> Loaded:
    """Reads, parses and decodes one photo; a bad one becomes an error, never an exception."""
    t = time.perf_counter()
    pixels, counted = 0, False
    try:
        data = item.read(ctx.max_file_bytes)
        t = ctx.clock.add("read", t)
        header = open_checked(data, ctx.max_image_pixels)
        # before the metadata: Pillow decodes a whole PNG to find an eXIf chunk after its pixels
        pixels = header.width * header.height
        ctx.budget.acquire(ticket, pixels)
        counted = True
        t = time.perf_counter()  # waiting for the budget is no stage's work
        metadata = read_metadata(header, now=ctx.now)
        t = ctx.clock.add("exif", t)
        image, exif = upright_rgb(header)
        ctx.clock.add("decode", t)
        return Loaded(item, image, exif, metadata, pixels=pixels)
    except ImageError as exc:
        error = str(exc)
    except OSError as exc:
        error = f"file could not be read ({exc.strerror or exc})"
    except Exception as exc:  # a decoder bug on one file must not sink the batch
        log.exception("unexpected error loading %s", item.rel_path)
        error = f"unexpected error reading this file ({type(exc).__name__}: {exc})"
    finally:
        if not counted:
            ctx.budget.pass_turn(ticket)
    if counted:
        ctx.budget.release(pixels)  # decoding failed after the pixels were counted
    return Loaded(item, error=error)
