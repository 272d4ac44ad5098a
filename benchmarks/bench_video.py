"""What decoding costs per checked video frame: Trapline's decoder process (frames decoded in
order, only the checked ones converted to RGB and sent over the pipe; long gaps jumped by
seeking) against the same decoding done in the model server's own process (what the isolation
costs), against converting every frame and keeping the checked ones (a naive frame loop), and,
at a long interval, against decoding every frame without jumping. Side by side in one run,
repeated.

    python -m benchmarks.bench_video --seconds 20 --size 1280x720 --fps 30 --repeat 5

The clip is made here with PyAV (moving noise, so it does not compress to nothing); the real
trap video `chimp.mp4` from ../shared/data is measured the same way.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.bench_pipeline import REPO
from model_server.media import video_walk
from model_server.media.video_decode import DecodeRequest, decode
from model_server.media.video_process import DecoderProcess

CHIMP = REPO.parent / "shared" / "data" / "videos" / "zamba" / "chimp.mp4"


def make_clip(path: Path, seconds: int, size: tuple[int, int], fps: int) -> Path:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (size[1] + 64, size[0] + 64, 3), dtype=np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "veryfast", "sc_threshold": "0"}  # no scene-cut keyframes
        stream.codec_context.gop_size = fps * 2  # a keyframe every 2 s, as many traps write
        for i in range(seconds * fps):
            dx, dy = i % 64, (i * 2) % 64
            frame = base[dy : dy + size[1], dx : dx + size[0]]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def request(path: Path, interval: float) -> DecodeRequest:
    return DecodeRequest(str(path), "", 10**10, interval, 600, 320, 10**9)


def in_child(path: Path, interval: float) -> int:
    decoder = DecoderProcess(request(path, interval))
    try:
        return sum(1 for frame in decoder.frames() if frame.rgb)
    finally:
        decoder.close()


def in_process(path: Path, interval: float) -> int:
    sent: list[Any] = []
    decode(request(path, interval), lambda message: sent.append(message[0]))
    return sent.count("frame")


def no_jumps(path: Path, interval: float) -> int:
    """In-process, decoding every frame however far the next checked one is."""
    gap = video_walk.SEEK_GAP
    video_walk.SEEK_GAP = float("inf")
    try:
        return in_process(path, interval)
    finally:
        video_walk.SEEK_GAP = gap


def every_frame(path: Path, interval: float) -> int:
    """Converts each frame to RGB and keeps one per interval, as a plain frame loop would."""
    kept, next_time = 0, 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            image = frame.to_image()
            if frame.time is not None and frame.time + 1e-3 >= next_time:
                image.tobytes()
                kept += 1
                next_time += interval
    return kept


def measure(
    fn: Callable[[Path, float], int], path: Path, interval: float, repeat: int
) -> tuple[list[float], int]:
    times, count = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        count = fn(path, interval)
        times.append(time.perf_counter() - t)
    return times, count


def row(name: str, times: list[float], frames: int) -> float:
    per = [1000 * t / frames for t in times]
    med = statistics.median(per)
    print(
        f"  {name:<34} {frames:>4} frames  ms/checked frame: min {min(per):7.2f}  "
        f"median {med:7.2f}  max {max(per):7.2f}"
    )
    return med


def bench(label: str, path: Path, interval: float, repeat: int) -> None:
    print(f"{label} (one frame every {interval:g} s), {repeat} runs each:")
    in_child(path, interval)  # a decoder worker starts once per loader, not once per video
    child = row("decoder process (Trapline)", *measure(in_child, path, interval, repeat))
    local = row("same decoding, in-process", *measure(in_process, path, interval, repeat))
    naive = row("convert every frame, keep some", *measure(every_frame, path, interval, repeat))
    print(
        f"  ratios (median): every-frame loop / Trapline {naive / child:.2f}x;  "
        f"process isolation costs {child / local:.2f}x of in-process decoding"
    )
    if interval > video_walk.SEEK_GAP:
        whole = row("in-process, no jumps", *measure(no_jumps, path, interval, repeat))
        print(f"  jumping saves: no-jumps / in-process {whole / local:.2f}x")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--interval", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="trapline-video-bench-") as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", args.seconds, (width, height), args.fps)
        with av.open(str(clip)) as made:
            stream = made.streams.video[0]
            keys = [
                float(p.pts * p.time_base)
                for p in made.demux(stream)
                if p.is_keyframe and p.pts is not None and p.time_base is not None
            ]
        print(f"made clip keyframes at {', '.join(f'{k:.1f}' for k in keys)} s")
        for interval in args.interval:
            bench(
                f"made clip {width}x{height}, {args.fps} fps, {args.seconds} s",
                clip,
                interval,
                args.repeat,
            )
    if CHIMP.is_file():
        for interval in args.interval:
            bench("chimp.mp4 (real, 320x180, 30 fps, 15 s)", CHIMP, interval, args.repeat)


if __name__ == "__main__":
    main()
