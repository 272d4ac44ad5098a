"""Video frame numbers as MegaDetector's tools count them (issue 28, item 4): its renderer and
frame extraction (`video_utils.run_callback_on_frames`, OpenCV underneath) number the frames
they decode, so a frame a trap dropped takes no number. Trapline's `frames_processed` and each
box's `frame_number` must name the frame MegaDetector's own reader gives for that number, up to
the last one; the time of each frame is kept beside its number."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.images import red_patch_image
from tests.videos import GREY, avi_with_a_dropped_frame

SIZE, PATCH = (160, 120), (40, 30, 90, 80)

# In a process of its own: importing MegaDetector sets Pillow's LOAD_TRUNCATED_IMAGES for the
# whole process. Prints, per frame MegaDetector reads, its name and whether the red patch is there.
JUDGE = """
import json, sys
from megadetector.detection.video_utils import run_callback_on_frames
x0, y0, x1, y1 = json.loads(sys.argv[3])
def red(image, name):
    patch = image[y0 + 5 : y1 - 5, x0 + 5 : x1 - 5].astype(float).mean(axis=(0, 1))
    return bool(patch[0] > 200 and patch[1] < 60)
done = run_callback_on_frames(sys.argv[1], red, frames_to_process=json.loads(sys.argv[2]))
print(json.dumps(list(zip(done["frame_filenames"], done["results"]))))
"""


def megadetector_reads(video: Path, frames: list[int]) -> dict[int, bool]:
    done = subprocess.run(
        [sys.executable, "-c", JUDGE, str(video), json.dumps(frames), json.dumps(PATCH)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {int(name.removeprefix("frame").removesuffix(".jpg")): red for name, red in found}


def test_boxes_land_on_the_frames_megadetector_reads(
    red_patch_model: Path, run_batch_cli, tmp_path: Path
) -> None:
    # 16 frames by the index, the sixth dropped (15 decodable, as 11060025.AVI); the animal in
    # index frames 8 and 15, both after the gap, the second the last
    images = [
        red_patch_image(SIZE, PATCH) if i in (8, 15) else Image.new("RGB", SIZE, GREY)
        for i in range(16)
    ]
    (tmp_path / "card").mkdir()
    video = avi_with_a_dropped_frame(tmp_path / "card" / "11060025.AVI", images, dropped=5)
    code, _out, err, result = run_batch_cli(
        video.parent, "--model", red_patch_model, "--frame-interval", "0.25"
    )
    assert code == 0 and result is not None, err
    entry = json.loads((result.root / "detections.json").read_text())["images"][0]
    processed = entry["frames_processed"]
    assert processed == list(range(15))
    # the time of each frame beside its number: the dropped frame's quarter second is skipped
    assert entry["frame_times"] == [i / 4 for i in (0, 1, 2, 3, 4, *range(6, 16))]
    # the red patch scores 0.95; the test graph's other boxes are 0.5 and 0.1
    boxes = {d["frame_number"] for d in entry["detections"] if d["conf"] > 0.9}
    assert boxes == {7, 14}
    read = megadetector_reads(video, processed)
    assert sorted(read) == processed  # MegaDetector reads every frame named, the last included
    assert {n for n, red in read.items() if red} == boxes
