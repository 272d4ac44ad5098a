"""Videos made by the tests themselves with PyAV: a grey clip with a red 'animal' patch in
chosen frames, container tags, a Bushnell-style MJPEG AVI whose first frame has another pixel
format, an AVI that dropped a frame, a sound-only file, and damaged copies of real videos."""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from PIL import Image

from tests.images import red_patch_image

GREY = (90, 110, 90)


def clip(
    path: Path,
    frames: Iterable[Image.Image],
    fps: int,
    *,
    tags: dict[str, str] | None = None,
    codec: str = "libx264",
    keyframe_every: int | None = None,
) -> Path:
    """Encodes `frames` at `fps` into `path` (the container from its suffix), with a keyframe
    every `keyframe_every` frames if given (the encoder's choice otherwise)."""
    frames = list(frames)
    # QuickTime's own keys (make, model) are kept only as metadata tags
    options = (
        {"movflags": "use_metadata_tags"}
        if tags and path.suffix.lower() in (".mp4", ".mov")
        else {}
    )
    with av.open(str(path), "w", options=options) as out:
        for key, value in (tags or {}).items():
            out.metadata[key] = value
        stream = cast(av.VideoStream, out.add_stream(codec, rate=fps))
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        if keyframe_every:
            stream.codec_context.gop_size = keyframe_every
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def red_patch_clip(
    path: Path,
    *,
    seconds: int,
    fps: int,
    patch_frames: range,
    size: tuple[int, int] = (160, 120),
    tags: dict[str, str] | None = None,
) -> Path:
    """A grey clip with the red patch (the test detector's animal) in `patch_frames` only."""
    patch = (40, 30, 90, 80)
    frames = [
        red_patch_image(size, patch) if i in patch_frames else Image.new("RGB", size, GREY)
        for i in range(seconds * fps)
    ]
    return clip(path, frames, fps, tags=tags)


def bushnell_avi(path: Path, frames: int = 8, fps: int = 5) -> Path:
    """MJPEG in AVI, as Bushnell traps write it, with a first frame in 4:4:4 and the rest in
    4:2:0: another pixel format from the second frame on."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuvj420p"
        stream.time_base = Fraction(1, fps)
        for i in range(frames):
            buf = io.BytesIO()
            Image.new("RGB", (64, 48), (200, 25 * i, 0)).save(
                buf, "JPEG", subsampling=0 if i == 0 else 2
            )
            packet = av.Packet(buf.getvalue())
            packet.stream, packet.pts, packet.dts = stream, i, i
            packet.time_base = Fraction(1, fps)
            out.mux(packet)
    return path


def avi_with_a_dropped_frame(
    path: Path, images: list[Image.Image], dropped: int, fps: int = 4
) -> Path:
    """MJPEG in AVI with an empty (0-byte) chunk in place of frame `dropped`, as a trap that
    drops a frame writes it: the index counts every chunk, decoders have one frame fewer."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = images[0].size
        stream.pix_fmt = "yuvj420p"
        stream.time_base = Fraction(1, fps)
        for i, image in enumerate(images):
            buf = io.BytesIO()
            if i != dropped:
                image.save(buf, "JPEG", quality=95)
            packet = av.Packet(buf.getvalue())
            packet.stream, packet.pts, packet.dts = stream, i, i
            packet.time_base = Fraction(1, fps)
            out.mux(packet)
    return path


def sound_only(path: Path) -> Path:
    """An MP4 with an AAC track and no picture."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((2, 1024), np.float32), format="fltp", layout="stereo"
        )
        frame.sample_rate, frame.pts = 8000, 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def garbled(data: bytes, start: float = 0.4, end: float = 0.6, seed: int = 7) -> bytes:
    """`data` with the bytes between the two fractions of its length replaced by noise: the
    container's index survives, part of the picture data does not."""
    rng = np.random.default_rng(seed)
    a, b = int(len(data) * start), int(len(data) * end)
    return data[:a] + rng.integers(0, 256, b - a, dtype=np.uint8).tobytes() + data[b:]
