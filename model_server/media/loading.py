"""The loading stage, on a loader thread, within the pipeline's budget of decoded pixels: one
photo read, its EXIF parsed and its pixels decoded; or one video's decoder process started and
its container read (its frames follow while the detector takes them)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from model_server.media.exif import PhotoMetadata, read_metadata
from model_server.media.imaging import open_checked, pixels_of, upright_rgb
from model_server.media.look import image_look
from model_server.media.pixel_budget import PixelBudget
from model_server.media.video_decode import DecodeRequest
from model_server.media.video_process import DecoderProcess
from shared.errors import ImageError
from shared.inputs import InputItem

if TYPE_CHECKING:
    from model_server.media.video_result import VideoResult
    from model_server.stage_clock import StageClock

log = logging.getLogger(__name__)
ORIENTATION = 0x0112  # EXIF: how the camera was held; 1 is upright


@dataclass
class Loaded:
    item: InputItem
    image: Image.Image | None = None
    exif: bytes = b""
    metadata: PhotoMetadata | None = None
    error: str | None = None
    pixels: int = 0  # taken from the budget; the writer gives them back
    size: tuple[int, int] | None = None  # the photo's own upright size, when decoded smaller
    # the file's own bytes, for a JPEG that needs no turning: where no box is drawn on it, they
    # are its annotated copy (nothing to re-encode, no generation lost)
    original: bytes = b""
    video: DecoderProcess | None = None  # a video whose frames are still to come
    video_result: VideoResult | None = None  # a video once its frames were detected
    look: dict[str, float | str] = field(default_factory=dict)  # chroma, brightness, layout
    prepared: object | None = None  # the detector's input, made here (`PreparingDetector`)


@dataclass(frozen=True)
class LoadContext:
    max_file_bytes: int
    max_image_pixels: int
    clock: StageClock
    now: datetime  # capture times after this are flagged
    budget: PixelBudget
    frame_interval: float = 1.0
    max_frames: int = 600
    thumbnail_size: int = 320
    # decode JPEGs no larger than needed to give the detector this many pixels a side (None:
    # full size, for the annotated copies)
    draft_size: int | None = None
    # the detector's own input preparation (its letterbox resize), run here on the loader
    # thread so that the thread running the model does only inference
    prepare: Callable[[np.ndarray], object] | None = None


def load_media(item: InputItem, ticket: int, ctx: LoadContext) -> Loaded:
    if item.kind == "video":
        return load_video(item, ticket, ctx)
    return load_image(item, ticket, ctx)


def load_video(item: InputItem, ticket: int, ctx: LoadContext) -> Loaded:
    """Starts the video's decoder process and waits for what its container says; the budget
    holds two frames of it (one in the pipe, one with the detector)."""
    t = time.perf_counter()
    counted = False
    try:
        request = DecodeRequest(
            str(item.path),
            item.member if item.in_zip else "",
            ctx.max_file_bytes,
            ctx.frame_interval,
            ctx.max_frames,
            ctx.thumbnail_size,
            ctx.max_image_pixels,
        )
        decoder = DecoderProcess(request)
        ctx.clock.add("read", t)
        if decoder.facts is None:
            decoder.close()
            return Loaded(item, error=decoder.unreadable)
        pixels = 2 * decoder.facts["width"] * decoder.facts["height"]
        ctx.budget.acquire(ticket, pixels)
        counted = True
        return Loaded(item, video=decoder, pixels=pixels)
    finally:
        if not counted:
            ctx.budget.pass_turn(ticket)


def _upright(full: tuple[int, int], decoded: tuple[int, int]) -> tuple[int, int]:
    """The full size turned as the decoded (and EXIF-rotated) image was."""
    turned = (decoded[0] > decoded[1]) != (full[0] > full[1])
    return (full[1], full[0]) if turned else full


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
        full = header.size
        as_is = (
            header.format == "JPEG"
            and not ctx.draft_size
            and header.getexif().get(ORIENTATION, 1) == 1
        )
        if ctx.draft_size and header.format == "JPEG":
            # DCT scaling by 1/2, 1/4 or 1/8 while decoding, never below the detector's size
            header.draft("RGB", (ctx.draft_size, ctx.draft_size))
        image, exif = upright_rgb(header)
        look = image_look(image)
        t = ctx.clock.add("decode", t)
        prepared = None
        if ctx.prepare is not None:
            prepared = ctx.prepare(pixels_of(image))
            ctx.clock.add("letterbox", t)
        size = image.size if image.size in (full, full[::-1]) else _upright(full, image.size)
        return Loaded(
            item,
            image,
            exif,
            metadata,
            pixels=pixels,
            size=size,
            original=data if as_is else b"",
            look=look,
            prepared=prepared,
        )
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
