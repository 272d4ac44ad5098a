"""Walking through a video's frames for the sampler: every frame in order, or, where the gap to
the next checked frame is long, a jump (seek) to the keyframe before it, so a video checked
every 10 s, or an hour-long one whose interval widened to fit the cap, is not decoded whole.

Frames are numbered as MegaDetector's tools count them (OpenCV reads a video frame by frame and
numbers what it decodes): a frame that could not be decoded takes no number, so `frame_number`
in detections.json lands on the frame that MegaDetector's renderer and Timelapse show. Each
frame's time (from its timestamp) is kept beside its number. A jump passes frames without
decoding them; they are counted from the time gap. A frame that would come back in time is not
checked (after a jump it was already seen; otherwise it is damage, counted, and takes its
number as OpenCV gives it one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import av

from model_server.media.video_sampling import Sampler

log = logging.getLogger(__name__)

# A checked frame further ahead than this is reached by seeking; nearer ones by decoding on.
# (Decoding on from the keyframe before a target costs up to a group of pictures anyway, and
# camera traps write a keyframe every second or two.)
SEEK_GAP = 3.0


@dataclass
class Walked:
    number: int
    time: float
    frame: Any


@dataclass
class WalkCounts:
    decoded: int = 0
    bad_packets: int = 0
    demux_errors: int = 0
    stopped_at: int = -1
    out_of_order: int = 0
    seeks: int = 0
    wasted_seeks: int = 0  # jumps that landed behind where they started
    failed_seek: str = ""  # why jumping was given up for this video

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class FrameWalker:
    container: Any
    stream: Any
    rate: float | None
    duration: float | None
    sampler: Sampler
    counts: WalkCounts = field(default_factory=WalkCounts)
    sparse_gap: float = 0.0  # set when a jump lands behind its start: keyframes are sparser

    def _seek_target(self, time: float) -> float | None:
        """Where to jump from `time`, if anywhere: the next checked frame, or past the last one
        to near the end, where the last frame is."""
        if not self.duration or self.counts.failed_seek:
            return None
        target = self.sampler.next_time
        if target >= self.duration or self.sampler.capped:
            target = self.duration - SEEK_GAP / 2
        return target if target - time > max(SEEK_GAP, self.sparse_gap) else None

    def _seek(self, target: float, first_pts: int) -> bool:
        try:
            self.container.seek(
                first_pts + int(target / self.stream.time_base), stream=self.stream, backward=True
            )
        except (av.error.FFmpegError, OverflowError, ValueError) as exc:
            self.counts.failed_seek = str(exc)  # decode on, frame by frame
            return False
        self.counts.seeks += 1
        return True

    def frames(self) -> Iterator[Walked]:
        first_pts: int | None = None
        last, last_time = -1, -1.0  # the number and time of the newest frame yielded
        resync = False  # after a jump, until the first frame past `last_time`
        jumped_from: tuple[float, float] | None = None  # (from, to) until a frame after a jump
        demux = self.container.demux(self.stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                self.counts.demux_errors += 1
                self.counts.stopped_at = last + 1
                log.info("demuxing stopped: %s", exc)
                return
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                self.counts.bad_packets += 1
                continue
            for frame in decoded:
                by_time = frame.pts is not None and frame.time_base is not None and bool(self.rate)
                if by_time:
                    first_pts = frame.pts if first_pts is None else first_pts
                    time = float((frame.pts - first_pts) * frame.time_base)
                else:
                    time = (last + 1) / self.rate if self.rate else float(last + 1)
                if jumped_from is not None:
                    if time <= jumped_from[0]:
                        # the keyframe before the target was behind us: keyframes are further
                        # apart than that jump, so only longer ones can gain anything
                        self.counts.wasted_seeks += 1
                        self.sparse_gap = max(
                            self.sparse_gap, 2 * (jumped_from[1] - jumped_from[0])
                        )
                    jumped_from = None
                if time <= last_time:
                    if not resync:  # decoded, so counted, but behind in time: damage
                        self.counts.out_of_order += 1
                        last += 1
                    continue  # else: seen before the jump
                last = self._number(last, last_time, time, resync)
                last_time, resync = time, False
                self.counts.decoded += 1
                yield Walked(last, time, frame)
                target = self._seek_target(time) if by_time and first_pts is not None else None
                if target is not None and first_pts is not None and self._seek(target, first_pts):
                    resync, jumped_from = True, (time, target)
                    demux = self.container.demux(self.stream)
                    break

    def _number(self, last: int, last_time: float, time: float, resync: bool) -> int:
        """A frame's number as MegaDetector's tools (OpenCV) count: one more than the frame
        decoded before it, so a frame that could not be decoded is not counted. After a jump
        the frames passed over were not decoded: they are counted from the time gap, as if
        all of them could have been."""
        if resync and self.rate and last >= 0:
            return last + max(1, round((time - last_time) * self.rate))
        return last + 1
