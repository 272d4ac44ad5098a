"""Annotated copies sorted into a folder per outcome, on request."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.images import jpeg_bytes, red_patch_image


def test_copies_go_under_their_outcome(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    folder = tmp_path / "card"
    (folder / "cam1").mkdir(parents=True)
    (folder / "cam1" / "fox.jpg").write_bytes(
        jpeg_bytes(red_patch_image((160, 120), (10, 10, 50, 50)))
    )
    (folder / "cam1" / "grey.jpg").write_bytes(
        jpeg_bytes(Image.new("RGB", (160, 120), (90, 110, 90)))
    )
    (folder / "cam1" / "broken.jpg").write_bytes(b"not a photo")
    code, _, err, result = run_batch_cli(
        folder, "--model", red_patch_model, "--threshold", "0.4", "--sort-by-outcome"
    )
    assert code == 0, err
    photos = [n for n in result.names if n.endswith(".jpg")]
    # the test model's person box (0.5) is on every photo; the animal only on the red patch
    assert sorted(photos) == ["animal_person/cam1/fox.jpg", "person/cam1/grey.jpg"]
    assert "report.xlsx" in result.names  # the reports stay at the top
    code, _, err, result = run_batch_cli(folder, "--model", red_patch_model, "--threshold", "0.6")
    assert sorted(n for n in result.names if n.endswith(".jpg")) == [
        "cam1/fox.jpg",
        "cam1/grey.jpg",
    ]
