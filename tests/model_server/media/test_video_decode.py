"""Decoding videos in the decoder process: the real trap videos, videos made here with tags, and
broken ones — each read as far as it decodes or refused with a reason a researcher can act on;
a decoder that crashes takes only its own process down."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from PIL import Image

from model_server.media import video_walk
from model_server.media.video_decode import DecodeRequest, decode
from model_server.media.video_metadata import (
    parse_creation_time,
    parse_iso6709,
    parse_local_time,
)
from model_server.media.video_process import DecoderProcess, Frame
from tests.conftest import DATA
from tests.images import red_patch_image
from tests.videos import bushnell_avi, clip, garbled, red_patch_clip, sound_only

VIDEOS = DATA / "videos" / "zamba"
PHOTO = next((DATA / "camera-trap" / "ena24").glob("*.jpg"))
CRASH_MIDWAY = "tests.model_server.media.crashing_decoder:segfault_after_three_frames"
CRASH_AT_ONCE = "tests.model_server.media.crashing_decoder:segfault_at_once"


def decoded(
    path: Path, *, interval: float = 1.0, member: str = "", max_frames: int = 600, **kwargs
) -> tuple[DecoderProcess, list[Frame]]:
    decoder = DecoderProcess(
        DecodeRequest(str(path), member, 10**9, interval, max_frames, 320, 10**8), **kwargs
    )
    try:
        frames = list(decoder.frames()) if decoder.facts else []
    finally:
        decoder.close()
    return decoder, frames


# name, codec, frame rate, frames, size: as the data's MANIFEST describes the files
REAL = [
    ("01170043.MP4", "h264", 1, 6, (106, 60)),
    ("04250002.MP4", "h264", 1, 61, (106, 60)),
    ("09100029_Eland.MP4", "h264", 1, 31, (106, 60)),
    ("PICT0021.ASF", "msmpeg4", 1, 61, (90, 60)),
    ("PICT0265.AVI", "mpeg4", 1, 61, (106, 60)),
    ("chimp.mp4", "h264", 30, 450, (320, 180)),
]


@pytest.mark.parametrize(("name", "codec", "rate", "count", "size"), REAL)
def test_real_trap_videos_give_one_frame_a_second_first_and_last(
    name, codec, rate, count, size
) -> None:
    decoder, frames = decoded(VIDEOS / name)
    facts = decoder.facts
    assert facts is not None and not decoder.crash
    assert (facts["codec"], facts["frame_rate"], facts["expected_frames"]) == (codec, rate, count)
    assert (facts["width"], facts["height"]) == size
    assert decoder.ending["decoded"] == count and decoder.ending["bad_packets"] == 0
    numbers = [f.number for f in frames]
    # one frame per second by presentation time, and the last frame of the video
    assert numbers == sorted(set(list(range(0, count, rate)) + [count - 1]))
    for frame in frames:
        assert frame.time == pytest.approx(frame.number / rate, abs=1e-3)
        assert frame.size == size and len(frame.rgb) == size[0] * size[1] * 3
        with Image.open(io.BytesIO(frame.thumbnail)) as thumb:
            assert thumb.format == "JPEG" and thumb.size == size  # small videos stay small


def test_a_longer_interval_and_a_cap() -> None:
    _, frames = decoded(VIDEOS / "chimp.mp4", interval=2.0)
    assert [f.number for f in frames] == [*range(0, 450, 60), 449]
    decoder, frames = decoded(VIDEOS / "chimp.mp4", max_frames=5)
    assert decoder.facts is not None and decoder.facts["interval"] == pytest.approx(15 / 3)
    assert "to stay within 5 frames" in decoder.facts["notes"][0]
    assert [f.number for f in frames] == [0, 150, 300, 449]


def test_a_video_inside_a_zip_is_read_from_the_zip(tmp_path: Path) -> None:
    archive = tmp_path / "card.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(VIDEOS / "PICT0265.AVI", "DCIM/PICT0265.AVI")
        z.writestr("DCIM/EMPTY.AVI", b"")
    decoder, frames = decoded(archive, member="DCIM/PICT0265.AVI")
    assert decoder.facts is not None and len(frames) == 61
    decoder, _ = decoded(archive, member="DCIM/EMPTY.AVI")
    assert decoder.unreadable == "the file is empty (0 bytes)"
    small = DecoderProcess(
        DecodeRequest(str(archive), "DCIM/PICT0265.AVI", 1000, 1.0, 600, 320, 10**8)
    )
    small.close()
    assert small.unreadable == "file is 54,370 bytes, over the 1,000-byte limit"


def test_container_tags_give_capture_time_and_gps(tmp_path: Path) -> None:
    path = red_patch_clip(
        tmp_path / "tagged.mp4",
        seconds=2,
        fps=5,
        patch_frames=range(0),
        tags={
            "creation_time": "2024-06-01T05:42:10.000000Z",
            "location": "+47.3769+008.5417+408.0/",
            "com.apple.quicktime.make": "TrailCam",
        },
    )
    decoder, _ = decoded(path)
    assert decoder.facts is not None
    meta = decoder.facts["metadata"]
    assert meta["captured"] == "2024-06-01T05:42:10"
    assert meta["captured_from"] == "creation_time (container)"
    assert (meta["latitude"], meta["longitude"], meta["altitude_m"]) == (47.3769, 8.5417, 408.0)
    assert meta["make"] == "TrailCam"
    untagged, _ = decoded(VIDEOS / "01170043.MP4")
    assert untagged.facts is not None
    assert "captured" not in untagged.facts["metadata"]  # never guessed from the name
    assert untagged.facts["metadata"]["exif_notes"] == "no capture time in the container"


def test_a_phones_local_time_beats_its_utc_creation_time(tmp_path: Path) -> None:
    """A phone writes true UTC in creation_time and its local time with the offset beside it
    (issue 28, item 7): the capture time is the local one, as a camera trap's clock is."""
    path = red_patch_clip(
        tmp_path / "phone.mp4",
        seconds=1,
        fps=5,
        patch_frames=range(0),
        tags={
            "creation_time": "2024-06-01T02:42:10.000000Z",
            "com.apple.quicktime.creationdate": "2024-06-01T10:42:10+0800",
        },
    )
    decoder, _ = decoded(path)
    assert decoder.facts is not None
    meta = decoder.facts["metadata"]
    assert meta["captured"] == "2024-06-01T10:42:10"
    assert meta["captured_from"] == "com.apple.quicktime.creationdate (container)"
    assert parse_local_time("2024-06-01T10:42:10") is None  # no offset: nothing says what it is
    assert str(parse_local_time("2024-06-01T10:42:10-05:00")) == "2024-06-01 10:42:10"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+47.3769+008.5417+408.0/", (47.3769, 8.5417, 408.0)),
        ("-33.8688+151.2093/", (-33.8688, 151.2093, None)),
        ("+00.0000+000.0000/", None),  # no fix
        ("+91.0000+008.0000/", None),
        ("somewhere", None),
    ],
)
def test_iso6709_positions(text: str, expected) -> None:
    assert parse_iso6709(text) == expected


def test_unset_camera_clocks_are_not_capture_times() -> None:
    assert parse_creation_time("1904-01-01T00:00:00.000000Z") is None
    assert parse_creation_time("1970-01-01T00:00:00Z") is None
    assert parse_creation_time("garbage") is None
    assert str(parse_creation_time("2021-03-04T22:01:02.5Z")) == "2021-03-04 22:01:02"


def test_broken_files_are_refused_with_their_reason(tmp_path: Path) -> None:
    real = (VIDEOS / "chimp.mp4").read_bytes()
    cases = {
        "empty.mp4": (b"", "the file is empty (0 bytes)"),
        "photo.MP4": (PHOTO.read_bytes(), "this is a JPEG photo with a video's file name"),
        "cut.mp4": (real[: len(real) // 2], "the video's index is missing"),
        "noise.avi": (bytes(range(256)) * 40, "not a readable video (FFmpeg:"),
    }
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        decoder, frames = decoded(tmp_path / name)
        assert words in decoder.unreadable, (name, decoder.unreadable)
        assert decoder.facts is None and not frames
    decoder, _ = decoded(sound_only(tmp_path / "sound.mp4"))
    assert decoder.unreadable == "the file has no video stream (sound only?)"


def opencv_frames(path: Path) -> list[np.ndarray]:
    """Every frame OpenCV reads, in RGB, as MegaDetector's video tools read them."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    found: list[np.ndarray] = []
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return found
            found.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(float))
    finally:
        capture.release()


def test_damaged_videos_are_read_as_far_as_they_decode(tmp_path: Path) -> None:
    real = (VIDEOS / "chimp.mp4").read_bytes()
    (tmp_path / "garbled.mp4").write_bytes(garbled(real))
    decoder, frames = decoded(tmp_path / "garbled.mp4")
    assert decoder.ending["bad_packets"] > 0
    assert 0 < decoder.ending["decoded"] < 450
    numbers = [f.number for f in frames]
    # numbered as OpenCV (and so MegaDetector's tools) count decoded frames: what is lost to
    # damage takes no number
    ending = decoder.ending
    assert numbers[0] == 0 and numbers == sorted(set(numbers))
    assert numbers[-1] == ending["decoded"] + ending["out_of_order"] - 1 < 449
    opencv = opencv_frames(tmp_path / "garbled.mp4")  # it stops at the first damage it meets
    seen = [f for f in frames if f.number < len(opencv)]
    assert len(seen) >= 3
    for frame in seen:  # the frame Trapline calls N is the one OpenCV reads as N
        ours = np.asarray(Image.frombytes("RGB", frame.size, frame.rgb), dtype=float)
        assert np.abs(ours - opencv[frame.number]).mean() < 2, frame.number
    avi = (VIDEOS / "PICT0265.AVI").read_bytes()
    (tmp_path / "cut.avi").write_bytes(avi[: int(len(avi) * 0.6)])
    decoder, frames = decoded(tmp_path / "cut.avi")
    assert decoder.facts is not None and 0 < len(frames) < 61
    assert frames[0].number == 0


def test_a_wrong_extension_is_no_obstacle_for_a_real_video(tmp_path: Path) -> None:
    (tmp_path / "clip.avi").write_bytes((VIDEOS / "01170043.MP4").read_bytes())
    decoder, frames = decoded(tmp_path / "clip.avi")
    assert decoder.facts is not None and decoder.facts["codec"] == "h264" and len(frames) == 6


def test_a_first_frame_in_another_pixel_format_bushnell(tmp_path: Path) -> None:
    decoder, frames = decoded(bushnell_avi(tmp_path / "PICT0001.AVI"), interval=0.2)
    assert decoder.facts is not None and len(frames) == 8
    for i, frame in enumerate(frames):
        pixel = Image.frombytes("RGB", frame.size, frame.rgb).getpixel((5, 5))
        red, green, _ = cast(tuple[int, int, int], pixel)
        assert abs(red - 200) <= 4 and abs(green - 25 * i) <= 4, (i, red, green)


def test_a_decoder_that_segfaults_takes_only_its_own_process(tmp_path: Path) -> None:
    decoder, frames = decoded(VIDEOS / "04250002.MP4", decode=CRASH_MIDWAY)
    assert [f.number for f in frames] == [0, 1, 2]  # what it sent before dying is kept
    assert decoder.crash == "the video decoder crashed (SIGSEGV) on this file"
    decoder, frames = decoded(VIDEOS / "04250002.MP4", decode=CRASH_AT_ONCE)
    assert decoder.unreadable == "the video decoder crashed (SIGSEGV) on this file"
    decoder, frames = decoded(VIDEOS / "01170043.MP4")  # the next video decodes as ever
    assert len(frames) == 6


def frames_in_process(path: Path, interval: float) -> tuple[list[tuple], dict]:
    sent: list[tuple] = []
    decode(DecodeRequest(str(path), "", 10**9, interval, 600, 320, 10**8), sent.append)
    return [m for m in sent if m[0] == "frame"], sent[-1][1]


def test_long_gaps_are_jumped_and_give_the_same_frames(tmp_path: Path, monkeypatch) -> None:
    # 20 s at 10 fps with a keyframe every second, as many traps write them
    frames = [red_patch_image((96, 64), (i, 5, i + 20, 30)) for i in range(200)]
    path = clip(tmp_path / "keyed.mp4", frames, 10, keyframe_every=10)
    jumped, ending = frames_in_process(path, 4.0)
    assert [m[1] for m in jumped] == [0, 40, 80, 120, 160, 199]
    assert ending["seeks"] >= 4 and ending["wasted_seeks"] == 0 and ending["decoded"] < 120
    monkeypatch.setattr(video_walk, "SEEK_GAP", 1e9)  # frame by frame, the whole video
    walked, ending = frames_in_process(path, 4.0)
    assert ending["seeks"] == 0 and ending["decoded"] == 200
    # the same frames, pixel for pixel: a jump lands where decoding on would have
    assert [(m[1], m[2], m[4]) for m in jumped] == [(m[1], m[2], m[4]) for m in walked]


@pytest.mark.parametrize(
    ("name", "interval", "numbers"),
    [
        ("chimp.mp4", 4.0, [0, 120, 240, 360, 449]),  # keyframes 250 frames apart
        ("PICT0021.ASF", 10.0, [0, 10, 20, 30, 40, 50, 60]),  # keyframes 12 s apart
        ("PICT0265.AVI", 7.0, [0, 7, 14, 21, 28, 35, 42, 49, 56, 60]),
    ],
)
def test_real_videos_give_the_same_frames_with_or_without_jumps(
    name, interval, numbers, monkeypatch
) -> None:
    jumped, ending = frames_in_process(VIDEOS / name, interval)
    assert [m[1] for m in jumped] == numbers
    assert ending["decoded"] <= numbers[-1] + 1
    monkeypatch.setattr(video_walk, "SEEK_GAP", 1e9)
    walked, _ = frames_in_process(VIDEOS / name, interval)
    assert [(m[1], m[2], m[4]) for m in jumped] == [(m[1], m[2], m[4]) for m in walked]


def test_frames_over_the_pixel_limit_are_never_converted(tmp_path: Path) -> None:
    """Issue 33, item 6: a video's frames are held to the photos' pixel limit before one is
    converted (a 12 MB AVI of 16000 x 16000 frames took a model server to 8 GB). Here the limit
    is lowered below a small clip's frames: the video is refused with the reason, and the same
    clip under a limit it fits is read."""
    path = red_patch_clip(tmp_path / "clip.mp4", seconds=2, fps=5, patch_frames=range(3))
    sent: list = []
    decode(DecodeRequest(str(path), "", 10**9, 1.0, 600, 320, 160 * 120 - 1), sent.append)
    assert sent == [
        ("unreadable", "its frames are 160x120 pixels, over the safety limit of 0 megapixels")
    ]
    sent.clear()
    decode(DecodeRequest(str(path), "", 10**9, 1.0, 600, 320, 160 * 120), sent.append)
    assert sent[0][0] == "facts" and sent[-1][0] == "end"
    assert [m[0] for m in sent[1:-1]] == ["frame"] * (len(sent) - 2) and len(sent) > 2
