"""The optional annotated clip of a video: its sampled frames with boxes, as an H.264 MP4 that
any browser plays (yuv420p, even dimensions, the index at the front). Written frame by frame as
the detector goes, so no frame is kept for it."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from model_server.detectors.base import Detection
from model_server.outputs.drawing import draw_detections

log = logging.getLogger(__name__)

CLIP_FPS = 4  # sampled frames shown per second: a minute sampled at 1 s plays in 15 s
CLIP_LONG_SIDE = 960


def _even(n: int) -> int:
    return max(2, n - n % 2)


class ClipWriter:
    def __init__(self, path: Path, size: tuple[int, int]) -> None:
        scale = min(1.0, CLIP_LONG_SIDE / max(size))
        self.size = (_even(round(size[0] * scale)), _even(round(size[1] * scale)))
        self.path = path
        self._out = av.open(str(path), mode="w", options={"movflags": "+faststart"})
        self._stream = self._out.add_stream("libx264", rate=CLIP_FPS)
        self._stream.width, self._stream.height = self.size
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": "26", "preset": "veryfast"}
        self._stream.codec_context.time_base = Fraction(1, CLIP_FPS)
        self._count = 0

    def add(self, image: Image.Image, detections: list[Detection], threshold: float) -> None:
        frame_image = image.resize(self.size, Image.Resampling.BILINEAR)
        draw_detections(frame_image, detections, threshold)
        frame = av.VideoFrame.from_image(frame_image)
        frame.pts = self._count
        self._count += 1
        for packet in self._stream.encode(frame):
            self._out.mux(packet)

    def close(self) -> int:
        """Finishes the file; returns how many frames it holds."""
        try:
            for packet in self._stream.encode():
                self._out.mux(packet)
        finally:
            self._out.close()
        return self._count

    def abandon(self) -> None:
        try:
            self._out.close()
        except (av.error.FFmpegError, OSError):
            pass
        self.path.unlink(missing_ok=True)
