"""Decoding one video with PyAV (its own bundled FFmpeg): the container's facts, then the
sampled frames as RGB pixels, in memory. This runs inside a decoder process
(`video_process.py`), so a codec that crashes takes that process down, never the model server.

Frames are decoded in order (inter frames need their predecessors), jumping ahead by seeking
where the next checked frame is far (`video_walk.py`); only the checked frames are converted to
RGB and sent on. Damaged packets are skipped and counted: FFmpeg resynchronises at the next
good frame.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
from PIL import Image

from model_server.media.video_metadata import container_metadata
from model_server.media.video_sampling import Sampler, SamplingPlan, plan_sampling
from model_server.media.video_walk import FrameWalker, Walked
from shared.errors import ImageError
from shared.inputs import InputItem, check_size

log = logging.getLogger(__name__)

Send = Callable[[tuple[Any, ...]], None]


@dataclass
class VideoFacts:
    """What the container says, sent before the first frame."""

    codec: str
    width: int
    height: int
    frame_rate: float | None
    duration: float | None  # seconds
    expected_frames: int | None
    interval: float
    max_frames: int
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DecodeRequest:
    """What a decoder process is asked to do; plain values, so it crosses a process boundary."""

    path: str  # a file on disk, or the zip holding the video
    member: str  # the zip entry, "" for a file on disk
    max_bytes: int
    frame_interval: float
    max_frames: int
    thumbnail_size: int
    max_pixels: int  # a frame larger than a photo may be is never converted


class VideoUnreadable(Exception):
    """The video cannot be decoded at all; the message says why in a researcher's words."""


# What a file that is not a video often is, by its first bytes.
SIGNATURES = (
    (b"\xff\xd8\xff", "a JPEG photo"),
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "a zip archive"),
    (b"%PDF", "a PDF document"),
)


def _open(request: DecodeRequest) -> Any:
    source: Any
    if request.member:
        data = InputItem(request.member, Path(request.path), request.member, True).read(
            request.max_bytes
        )
        head, source = data[:16], io.BytesIO(data)
    else:
        with open(request.path, "rb") as fh:
            check_size(os.fstat(fh.fileno()).st_size, request.max_bytes)
            head = fh.read(16)
        source = request.path
    if not head:
        raise VideoUnreadable("the file is empty (0 bytes)")
    try:
        container = av.open(source, mode="r")
    except av.error.FFmpegError as exc:
        raise VideoUnreadable(_why_unreadable(head, exc)) from None
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        # FFmpeg reads a still image as a one-frame video; it is a photo with the wrong name
        container.close()
        raise VideoUnreadable(_why_unreadable(head, None))
    return container


def oversized(width: int, height: int, max_pixels: int) -> str:
    return (
        f"its frames are {width}x{height} pixels, over the safety limit of "
        f"{max_pixels / 1e6:.0f} megapixels"
    )


def _why_unreadable(head: bytes, exc: Exception | None) -> str:
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            return f"this is {what} with a video's file name, not a video"
    if exc is None:
        return "this is a still image with a video's file name, not a video"
    if head[4:8] == b"ftyp":
        # MP4 and MOV keep their index at the end unless written for streaming
        return (
            "the video's index is missing: the file was probably cut short while it was "
            "recorded or copied"
        )
    reason = (getattr(exc, "strerror", None) or str(exc)).split(": '", 1)[0]
    return f"not a readable video (FFmpeg: {reason.lower()})"


def _rate(stream: Any) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) < 1000:
            return float(rate)
    return None


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


def facts_of(container: Any, request: DecodeRequest) -> tuple[VideoFacts, Any]:
    if not container.streams.video:
        raise VideoUnreadable("the file has no video stream (sound only?)")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame threads: the codec decodes ahead on other cores
    rate, duration = _rate(stream), _duration(container, stream)
    expected = stream.frames or (round(duration * rate) if duration and rate else None)
    plan = plan_sampling(
        request.frame_interval, request.max_frames, frame_rate=rate, duration=duration
    )
    ctx = stream.codec_context
    if ctx.width * ctx.height > request.max_pixels:
        raise VideoUnreadable(oversized(ctx.width, ctx.height, request.max_pixels))
    facts = VideoFacts(
        codec=ctx.name,
        width=ctx.width,
        height=ctx.height,
        frame_rate=rate,
        duration=duration,
        expected_frames=expected or None,
        interval=plan.interval,
        max_frames=plan.max_frames,
        metadata=container_metadata(container, stream),
    )
    if plan.note:
        facts.notes.append(plan.note)
    return facts, stream


def _message(item: Walked, thumb_size: int) -> tuple[Any, ...]:
    image = item.frame.to_image()  # any pixel format, frame by frame (Bushnell's first frame)
    if image.mode != "RGB":
        image = image.convert("RGB")
    thumb = image.copy()
    thumb.thumbnail((thumb_size, thumb_size), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return ("frame", item.number, round(item.time, 3), image.size, image.tobytes(), out.getvalue())


def decode(request: DecodeRequest, send: Send) -> None:
    """Sends ("facts", dict), then ("frame", number, seconds, (w, h), rgb bytes, thumbnail
    JPEG) per sampled frame, then ("end", dict); or ("unreadable", reason)."""
    try:
        container = _open(request)
    except VideoUnreadable as exc:
        send(("unreadable", str(exc)))
        return
    except ImageError as exc:  # damaged in the zip or over the size limit
        send(("unreadable", str(exc)))
        return
    except OSError as exc:
        send(("unreadable", f"file could not be read ({exc.strerror or exc})"))
        return
    with container:
        try:
            facts, stream = facts_of(container, request)
        except VideoUnreadable as exc:
            send(("unreadable", str(exc)))
            return
        send(("facts", asdict(facts)))
        _decode_frames(container, stream, facts, request, send)


def _decode_frames(
    container: Any, stream: Any, facts: VideoFacts, request: DecodeRequest, send: Send
) -> None:
    sampler = Sampler(SamplingPlan(facts.interval, facts.max_frames), facts.frame_rate)
    walker = FrameWalker(container, stream, facts.frame_rate, facts.duration, sampler)
    last: Walked | None = None
    last_sent = -1
    for item in walker.frames():
        width, height = item.frame.width, item.frame.height
        if width * height > request.max_pixels:  # larger than its header said
            send(("crashed", oversized(width, height, request.max_pixels)))
            return
        if sampler.take(item.time):
            send(_message(item, request.thumbnail_size))
            last_sent = item.number
        last = item
    if last is not None and last.number != last_sent:
        send(_message(last, request.thumbnail_size))
    send(("end", {**walker.counts.as_dict(), "capped": sampler.capped}))
