"""The detector over one video's sampled frames, as the decoder process streams them: every
frame's detections kept with its number, the frame with the best detection kept for the
annotated JPEG and the site, a thumbnail per frame for the filmstrip, and the annotated clip
written as it goes when the job asks for one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from model_server.detectors.base import Detection, Detector
from model_server.media.imaging import pixels_of
from model_server.media.video_process import DecoderProcess, Frame
from model_server.media.video_result import VideoResult
from model_server.outputs.video_clip import ClipWriter
from model_server.stage_clock import StageClock
from shared.errors import ImageError, JobCancelled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoContext:
    detector: Detector
    clock: StageClock
    fatal: tuple[type[BaseException], ...]
    should_stop: Callable[[], bool] | None
    render_threshold: float
    clip_folder: Path | None  # where annotated clips go, None when the job wants none


def _ending_notes(decoder: DecoderProcess, result: VideoResult) -> list[str]:
    notes = list(result.facts.get("notes", []))
    ending, facts = decoder.ending, result.facts
    if ending.get("bad_packets"):
        notes.append(f"{ending['bad_packets']} damaged packet(s) skipped")
    if ending.get("demux_errors"):
        notes.append(
            f"the file ends early or is damaged: reading stopped at frame {ending['stopped_at']}"
        )
    expected, decoded = facts.get("expected_frames"), ending.get("decoded")
    # after a jump (seek) the frames passed over were never meant to be decoded
    if expected and decoded is not None and decoded < expected and not ending.get("seeks"):
        notes.append(f"{expected - decoded} of {expected} frames could not be decoded")
    if ending.get("capped"):
        notes.append(
            f"only the first {facts['max_frames'] - 1} sampled frames and the last "
            f"frame were checked (the cap of {facts['max_frames']} frames per video)"
        )
    if decoder.crash:
        notes.append(f"{decoder.crash}; the frames read before it are kept")
    return notes


def detect_video(decoder: DecoderProcess, source: str, ctx: VideoContext) -> VideoResult:
    """Runs the detector on each sampled frame. A decoder that dies midway leaves the frames it
    sent; one that sent none makes the video an error."""
    assert decoder.facts is not None
    result = VideoResult(decoder.facts)
    if getattr(ctx.detector, "per_file", False):
        result.failure = (
            "a reused MegaDetector results file has no per-frame results for "
            "this video; run the detector on it"
        )
        return result
    clip: ClipWriter | None = None
    clip_path = ctx.clip_folder / f"clip-{time.time_ns()}.mp4" if ctx.clip_folder else None
    best_conf = -1.0
    try:
        for frame in decoder.frames():
            if ctx.should_stop and ctx.should_stop():
                raise JobCancelled("The job was cancelled.")
            image = Image.frombytes("RGB", frame.size, frame.rgb)
            dets = _detect_frame(ctx, image, frame, source)
            result.frames.append((frame.number, frame.time))
            result.thumbnails[frame.number] = frame.thumbnail
            result.detections += [{**d.as_stored(), "frame": frame.number} for d in dets]
            conf = max((d.conf for d in dets), default=0.0)
            if result.best is None or conf > best_conf:
                result.best, result.best_frame, best_conf = image, frame.number, conf
                result.best_detections = dets
            if clip_path is not None:
                clip = clip or ClipWriter(clip_path, frame.size)
                clip.add(image, dets, ctx.render_threshold)
        if clip is not None and clip_path is not None:
            clip.close()
            result.clip, clip = clip_path.name, None
    finally:
        if clip is not None:
            clip.abandon()
        decoder.close()
    result.notes = _ending_notes(decoder, result)
    if not result.frames:
        result.failure = decoder.crash or "no frame of this video could be decoded"
    return result


def _detect_frame(
    ctx: VideoContext, image: Image.Image, frame: Frame, source: str
) -> list[Detection]:
    t = time.perf_counter()
    try:
        return ctx.detector.detect(pixels_of(image), f"{source}#frame{frame.number}")
    except ImageError as exc:
        log.warning("%s frame %d: %s", source, frame.number, exc)
        return []
    except ctx.fatal:
        raise
    finally:
        ctx.clock.add("inference", t)
