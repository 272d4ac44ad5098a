"""Videos through the batch command with a real frozen graph, checked the way MegaDetector's
format description reads a video entry: the frames processed sorted, within the video and on
the interval; each detection's frame among them; one Media row per video, its checked frames
in the Frames sheet; the best frame annotated in the zip and the clip playable."""

from __future__ import annotations

import functools
import itertools
import os
import zipfile
from datetime import datetime
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from model_server.cli import main as batch_main
from model_server.detectors import load_detector
from model_server.media import loading, video_process
from model_server.media.video_decode import DecodeRequest
from model_server.media.video_process import DecoderProcess
from model_server.pipeline.batch import run_batch
from model_server.pipeline.options import PipelineOptions
from shared.errors import JobCancelled
from shared.inputs import collect_inputs
from tests.conftest import DATA
from tests.images import jpeg_bytes, red_patch_image
from tests.videos import garbled, red_patch_clip, sound_only

VIDEOS = DATA / "videos" / "zamba"
TAGS = {"creation_time": "2024-06-01T05:42:10.000000Z", "location": "-2.3333+034.8333+1500.0/"}
CRASH_MIDWAY = "tests.model_server.media.crashing_decoder:segfault_after_three_frames"


def check_md_video_entry(entry: dict, frame_count: int, rate: float, interval: float) -> None:
    """What MegaDetector's format says of a video: frame_rate, frames_processed in order and in
    the video, each detection's frame_number one of them."""
    assert entry["frame_rate"] == rate
    frames = entry["frames_processed"]
    assert frames == sorted(set(frames)) and frames[0] == 0 and frames[-1] == frame_count - 1
    step = max(1, round(interval * rate))
    assert all(b - a == step for a, b in itertools.pairwise(frames[:-1]))
    assert 0 < frames[-1] - frames[-2] <= step
    for det in entry["detections"]:
        assert det["frame_number"] in frames


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    folder = tmp_path / "card"
    (folder / "CAM01").mkdir(parents=True)
    red_patch_clip(
        folder / "CAM01" / "visit.MP4", seconds=6, fps=5, patch_frames=range(10, 21), tags=TAGS
    )
    (folder / "CAM01" / "IMG_0001.JPG").write_bytes(
        jpeg_bytes(red_patch_image((160, 120), (10, 10, 50, 50)))
    )
    with zipfile.ZipFile(tmp_path / "zamba.zip", "w") as z:
        for name in ("PICT0021.ASF", "PICT0265.AVI", "chimp.mp4"):
            z.write(VIDEOS / name, f"CAM02/{name}")
    bad = folder / "bad"
    bad.mkdir()
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "photo.mov").write_bytes(jpeg_bytes(red_patch_image((64, 48), (1, 1, 9, 9))))
    (bad / "garbled.mp4").write_bytes(garbled((VIDEOS / "chimp.mp4").read_bytes()))
    sound_only(bad / "sound.m4v")
    return folder


def test_videos_photos_and_broken_videos_in_one_batch(
    upload: Path, red_patch_model: Path, run_batch_cli
) -> None:
    code, out, err, result = run_batch_cli(
        upload,
        upload.parent / "zamba.zip",
        "--model",
        red_patch_model,
        "--threshold",
        "0.4",
        "--video-clips",
    )
    assert code == 0, err
    assert "Images: 1, videos: 8 in" in out, out
    entries = result.images_by_file()
    visit = entries["card/CAM01/visit.MP4"]
    check_md_video_entry(visit, 30, 5.0, 1.0)
    assert visit["frames_processed"] == [0, 5, 10, 15, 20, 25, 29]
    animal_frames = [
        d["frame_number"] for d in visit["detections"] if d["category"] == "1" and d["conf"] >= 0.4
    ]
    assert animal_frames == [10, 15, 20]  # the patch is in frames 10-20 only
    for name, count, rate in (
        ("PICT0021.ASF", 61, 1.0),
        ("PICT0265.AVI", 61, 1.0),
        ("chimp.mp4", 450, 30.0),
    ):
        check_md_video_entry(entries[f"zamba/CAM02/{name}"], count, rate, 1.0)
    assert entries["card/CAM01/IMG_0001.JPG"].get("frames_processed") is None

    media = {
        r["file"].value: {k: c.value for k, c in r.items()} for r in result.sheet_rows("Media")
    }
    row = media["card/CAM01/visit.MP4"]
    assert (row["kind"], row["outcome"], row["animals"], row["persons"]) == (
        "video",
        "animal+person",
        1,
        1,
    )  # the most seen in one frame, not one per frame
    assert (row["duration_s"], row["frame_rate"], row["codec"]) == (6, 5, "h264")
    assert (row["frames_checked"], row["best_frame"], row["best_frame_s"]) == (7, 10, 2)
    # the person box (0.5) is in every frame; the patch comes in at frame 10
    assert row["first_seen"] == "animal: frame 10 (2.0 s); person: frame 0 (0.0 s)"
    assert str(row["captured"]) == "2024-06-01 05:42:10"
    assert (row["latitude"], row["longitude"]) == (-2.3333, 34.8333)
    assert media["card/CAM01/IMG_0001.JPG"]["kind"] == "image"
    assert media["card/bad/empty.mp4"]["failure"] == "the file is empty (0 bytes)"
    assert "JPEG photo with a video's file name" in media["card/bad/photo.mov"]["failure"]
    assert media["card/bad/sound.m4v"]["failure"] == "the file has no video stream (sound only?)"
    damaged = media["card/bad/garbled.mp4"]
    assert damaged["outcome"] != "error" and "damaged packet(s) skipped" in damaged["exif_notes"]
    assert "of 450 frames could not be decoded" in damaged["exif_notes"]

    frames = [
        {k: c.value for k, c in r.items()}
        for r in result.sheet_rows("Frames")
        if r["file"].value == "card/CAM01/visit.MP4"
    ]
    assert [(f["frame"], f["time_s"], f["animals"]) for f in frames] == [
        (0, 0, 0),
        (5, 1, 0),
        (10, 2, 1),
        (15, 3, 1),
        (20, 4, 1),
        (25, 5, 0),
        (29, 5.8, 0),
    ]
    summary = {
        r[0].value: r[1].value
        for r in result.workbook()["Summary"].iter_rows()
        if r[1].value is not None
    }
    assert summary["Videos"] == 8 and summary["Images"] == 1

    with Image.open(result.root / "card" / "CAM01" / "visit.MP4.best.jpg") as best:
        pixels = np.asarray(best.convert("RGB"))
    # the best frame shows the patch, with the animal box's amber outline drawn around it
    assert pixels[55, 65, 0] > 200 and pixels[55, 65, 1] < 60
    assert (np.abs(pixels.astype(int) - (255, 190, 0)).sum(axis=2) < 60).any()
    with av.open(str(result.root / "card" / "CAM01" / "visit.MP4.boxes.mp4")) as clip:
        stream = clip.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert sum(1 for _ in clip.decode(stream)) == 7
    assert "card/bad/empty.mp4.best.jpg" not in result.names
    assert "errors 3" in out


def test_frame_interval_on_the_command_line(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    code, _, err, result = run_batch_cli(
        VIDEOS / "chimp.mp4", "--model", red_patch_model, "--frame-interval", "2.5"
    )
    assert code == 0, err
    entry = result.images_by_file()["chimp.mp4"]
    check_md_video_entry(entry, 450, 30.0, 2.5)
    assert entry["frames_processed"] == [0, 75, 150, 225, 300, 375, 449]
    assert not any(n.endswith(".boxes.mp4") for n in result.names)  # clips only when asked


def test_a_frame_interval_of_zero_is_refused(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        batch_main(
            [str(VIDEOS / "chimp.mp4"), "--frame-interval", "0", "-o", str(tmp_path / "r.zip")]
        )
    assert stopped.value.code == 2
    assert "the frame interval must be more than 0" in capsys.readouterr().err


def test_a_crashing_decoder_costs_one_video_its_remaining_frames(
    tmp_path: Path, red_patch_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("04250002.MP4", "01170043.MP4"):
        (folder / name).write_bytes((VIDEOS / name).read_bytes())
    monkeypatch.setattr(
        loading, "DecoderProcess", functools.partial(DecoderProcess, decode=CRASH_MIDWAY)
    )
    detector = load_detector(red_patch_model)
    result = run_batch(
        collect_inputs([folder]),
        detector,
        tmp_path / "work",
        tmp_path / "r.zip",
        PipelineOptions(threshold=0.4),
    )
    assert result.tally.videos == 2 and result.tally.errors == 0
    with zipfile.ZipFile(tmp_path / "r.zip") as z:
        import json

        entries = {e["file"]: e for e in json.loads(z.read("detections.json"))["images"]}
        notes = z.read("images.csv").decode("utf-8-sig")
    for name in ("04250002.MP4", "01170043.MP4"):
        assert entries[name]["frames_processed"] == [0, 1, 2]
    assert notes.count("the video decoder crashed (SIGSEGV) on this file") == 2


def test_a_capture_time_after_the_run_started_is_flagged(
    tmp_path: Path, red_patch_model: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    red_patch_clip(folder / "late.mp4", seconds=2, fps=5, patch_frames=range(0), tags=TAGS)
    detector = load_detector(red_patch_model)
    run_batch(
        collect_inputs([folder]),
        detector,
        tmp_path / "work",
        tmp_path / "r.zip",
        PipelineOptions(threshold=0.4),
        now=lambda: datetime(2024, 5, 31, 12, 0),
    )
    with zipfile.ZipFile(tmp_path / "r.zip") as z:
        notes = z.read("images.csv").decode("utf-8-sig")
    assert "capture time is in the future: check the camera clock" in notes


def decoder_pids() -> set[int]:
    """This process's decoder workers still running (zombies excluded)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if (
            int(stat[1]) == os.getpid()
            and stat[0] != "Z"
            and b"model_server.media.decoder_worker" in cmdline
        ):
            found.add(int(entry.name))
    return found


def test_cancelling_mid_video_leaves_no_decoder_running(
    tmp_path: Path, red_patch_model: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("04250002.MP4", "PICT0265.AVI", "PICT0021.ASF", "09100029_Eland.MP4"):
        (folder / name).write_bytes((VIDEOS / name).read_bytes())
    asked = [0]

    def stop_after_some_frames() -> bool:
        asked[0] += 1
        return asked[0] > 10  # in the first video's frames, with the others loaded behind it

    detector = load_detector(red_patch_model)
    with pytest.raises(JobCancelled):
        run_batch(
            collect_inputs([folder]),
            detector,
            tmp_path / "work",
            tmp_path / "r.zip",
            PipelineOptions(threshold=0.4),
            should_stop=stop_after_some_frames,
        )
    pool = video_process._shared_pool()
    assert decoder_pids() == {w.process.pid for w in pool.idle}  # only idle ones wait on
    decoder, frames = (
        DecoderProcess(
            DecodeRequest(str(VIDEOS / "01170043.MP4"), "", 10**9, 1.0, 600, 320, 10**8)
        ),
        [],
    )
    frames = list(decoder.frames())
    decoder.close()
    assert len(frames) == 6  # and the next video decodes as ever
