"""`--reports-only`: no annotated copies, thumbnails or renditions, and JPEGs decoded no larger
than the detector reads them. On real photos the boxes are the full-size run's (the detector
scales the photo down either way) and the report keeps each photo's own size."""

from __future__ import annotations

from pathlib import Path

from model_server.outputs.reports import REPORT_FILES
from tests.conftest import DATA

ENA24 = DATA / "camera-trap" / "ena24"
HERON = DATA / "camtrap-dp" / "example" / "media"


def _iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_reports_only_keeps_the_boxes_and_the_sizes(
    megadetector_lite: Path, run_batch_cli, tmp_path: Path
) -> None:
    code, _, err, full = run_batch_cli(ENA24, "--model", megadetector_lite)
    assert code == 0, err
    full_images = full.images_by_file()
    full_rows = {r["file"]: r for r in full.sheet_values("Media")}
    (tmp_path / "out.zip").unlink()
    code, _out, err, lean = run_batch_cli(ENA24, "--model", megadetector_lite, "--reports-only")
    assert code == 0, err
    assert sorted(lean.names) == sorted(REPORT_FILES)  # no photos in the zip
    rows = {r["file"]: r for r in lean.sheet_values("Media")}
    assert {(f, r["width"], r["height"]) for f, r in rows.items()} == {
        (f, r["width"], r["height"]) for f, r in full_rows.items()
    }  # the photos' own sizes
    assert {r["width"] for r in rows.values()} == {1920, 2048}
    compared = 0
    for name, image in lean.images_by_file().items():
        a = [d for d in image["detections"] if d["conf"] >= 0.25]
        b = [d for d in full_images[name]["detections"] if d["conf"] >= 0.25]
        assert len(a) == len(b), name
        for x, y in zip(a, b, strict=True):
            assert abs(x["conf"] - y["conf"]) < 0.05 and _iou(x["bbox"], y["bbox"]) > 0.9, name
            compared += 1
    assert compared >= 12
