"""A photo with no box to draw is its own annotated copy: the file as the camera wrote it goes
into the zip, not a re-encoded one (no time spent, no generation lost, every EXIF tag kept). A
photo with a box, or one the camera stored turned, is still drawn and encoded upright."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.conftest import DATA
from tests.images import exif_block, jpeg_bytes, red_patch_image

REAL = (
    DATA / "camera-trap" / "camtrapR-burst-StationC-TRA" / "StationC__2009-04-11__21-44-00(1).JPG"
)


def test_only_photos_without_a_box_keep_their_own_bytes(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    empty_real = folder / "real_empty.jpg"
    empty_real.write_bytes(REAL.read_bytes())  # a real trap photo: no red patch in it
    boxed = folder / "animal.jpg"
    boxed.write_bytes(jpeg_bytes(red_patch_image((320, 240), (10, 10, 60, 50)), exif_block()))
    turned = folder / "turned_empty.jpg"
    turned.write_bytes(
        jpeg_bytes(Image.new("RGB", (400, 300), (90, 90, 90)), exif_block(orientation=6))
    )
    # the test model always reports a person at 0.5: boxes are drawn from 0.9 (its animals 0.95)
    code, _, err, result = run_batch_cli(
        folder, "--model", red_patch_model, "--render-threshold", "0.9"
    )
    assert code == 0, err
    images = result.images_by_file()
    assert not [d for d in images["real_empty.jpg"]["detections"] if d["conf"] >= 0.9]
    assert (result.root / "real_empty.jpg").read_bytes() == empty_real.read_bytes()
    assert (result.root / "animal.jpg").read_bytes() != boxed.read_bytes()  # boxes drawn
    with Image.open(result.root / "turned_empty.jpg") as copy:
        assert copy.size == (300, 400)  # upright pixels, encoded again
    assert (result.root / "turned_empty.jpg").read_bytes() != turned.read_bytes()
