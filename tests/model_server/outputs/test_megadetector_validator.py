"""MegaDetector's own validator (pip `megadetector` 10.0.28, installed by the test setup without
its PyTorch dependencies) judges Trapline's detections.json (issue 28, items 1 and 2): a real
card of photos and trap videos with one 0-byte clip among them is accepted (the broken video's
entry carries `frame_rate` -1.0 and `frames_processed` [] as MegaDetector writes them), and a
one-class model's file still declares MegaDetector's three categories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA

CAMTRAPR = DATA / "camera-trap" / "camtrapR-burst-StationC-TRA"
VIDEO = DATA / "videos" / "zamba" / "01170043.MP4"


# In a process of its own: importing MegaDetector sets Pillow's LOAD_TRUNCATED_IMAGES for the
# whole process, which would make later tests' truncated photos readable.
JUDGE = """
import json, sys
from megadetector.postprocessing.validate_batch_results import validate_batch_results
found = validate_batch_results(sys.argv[1])["validation_results"]
print(json.dumps({"errors": found["errors"], "warnings": found["warnings"]}))
"""


def judged(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", JUDGE, str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_card_with_a_broken_clip_passes_megadetectors_validator(
    red_patch_model: Path, run_batch_cli, tmp_path: Path
) -> None:
    broken = tmp_path / "card" / "broken.mp4"
    broken.parent.mkdir()
    broken.write_bytes(b"")
    code, _out, err, result = run_batch_cli(CAMTRAPR, VIDEO, broken, "--model", red_patch_model)
    assert code == 0, err
    found = judged(result.root / "detections.json")
    assert found["errors"] == [], found
    data = json.loads((result.root / "detections.json").read_text())
    entry = next(e for e in data["images"] if e["file"].endswith("broken.mp4"))
    assert (entry["frame_rate"], entry["frames_processed"], entry["detections"]) == (-1.0, [], None)
    assert entry["failure"]
    clip = next(e for e in data["images"] if e["file"].endswith("01170043.MP4"))
    assert clip["frame_rate"] > 0 and clip["frames_processed"]


def test_a_one_class_models_file_declares_megadetectors_categories(
    megadetector_lite: Path, run_batch_cli
) -> None:
    code, _out, err, result = run_batch_cli(CAMTRAPR, "--model", megadetector_lite)
    assert code == 0, err
    data = json.loads((result.root / "detections.json").read_text())
    assert data["detection_categories"] == {"1": "animal", "2": "person", "3": "vehicle"}
    assert data["info"]["detector_metadata"]["classes_detected"] == ["animal"]
    assert judged(result.root / "detections.json")["errors"] == []
