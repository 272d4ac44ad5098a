"""The real MegaDetector v4.1 output reused on the real ENA24 photos, checked in the result zip."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
from PIL import Image

from model_server.detectors.base import Category
from model_server.outputs.drawing import COLOURS
from model_server.outputs.reports import REPORT_FILES
from tests.conftest import DATA

ENA = DATA / "camera-trap" / "ena24"
MD_JSON = DATA / "megadetector-format" / "ena.md.4.1.0.json"


def reference() -> dict[str, list[dict]]:
    data = json.loads(MD_JSON.read_text())
    return {im["file"]: im["detections"] for im in data["images"] if (ENA / im["file"]).exists()}


def test_reused_results_give_the_same_boxes_report_and_zip(run_batch_cli) -> None:
    code, out, err, result = run_batch_cli(ENA, "--from-json", MD_JSON)
    assert code == 0, err
    assert "Images: 11" in out and "animal 11" in out and "md_v4.1.0.pb" in out
    ref = reference()
    assert len(ref) == 11
    expected = sorted([*ref, *REPORT_FILES])
    assert result.names == expected

    data = result.json()
    assert data["info"]["detector"] == "md_v4.1.0.pb"
    assert data["info"]["format_version"] == "1.4"
    # the source's own provenance, Trapline's run beside it (issue 28, item 3)
    assert data["info"]["detection_completion_time"] == "2021-07-14 14:57:28"
    trapline = data["info"]["trapline"]
    assert trapline["reused_from"] == MD_JSON.name and trapline["source_format_version"] == "1.0"
    assert trapline["completion_time"] != "2021-07-14 14:57:28"
    meta = data["info"]["detector_metadata"]
    assert "megadetector_version" not in meta  # the source did not say: no empty string
    assert (meta["typical_detection_threshold"], meta["conservative_detection_threshold"]) == (
        0.8,
        0.3,
    )
    assert data["detection_categories"] == {"1": "animal", "2": "person", "3": "vehicle"}
    images = result.images_by_file()
    for name, dets in ref.items():
        got = images[name]["detections"]
        assert [(d["category"], d["conf"]) for d in got] == [
            (d["category"], d["conf"]) for d in dets
        ]
        for g, r in zip(got, dets):
            assert g["bbox"] == r["bbox"]  # MegaDetector's own numbers, digit for digit
    assert images["49.jpg"]["datetime"] == "2016:03:24 10:30:12"
    assert (images["49.jpg"]["width"], images["49.jpg"]["height"]) == (2048, 1536)

    rows = {r["file"].value: r for r in result.sheet_rows("Media")}
    assert rows["5899.jpg"]["outcome"].value == "animal"  # person 0.757 is under 0.8
    assert rows["9455.jpg"]["animals"].value == 3
    assert rows["49.jpg"]["captured"].value == datetime(2016, 3, 24, 10, 30, 12)
    assert rows["49.jpg"]["captured"].is_date
    assert rows["49.jpg"]["make"].value == "Reconyx"
    dets = [r for r in result.sheet_rows("Detections") if r["file"].value == "2480.jpg"]
    assert len(dets) == 1
    assert dets[0]["x_min_px"].value == round(0.7371 * 1920)
    assert dets[0]["confidence"].value == 0.999


def test_boxes_are_drawn_where_the_detections_say(run_batch_cli) -> None:
    code, _, err, result = run_batch_cli(ENA / "2480.jpg", "--from-json", MD_JSON)
    assert code == 0, err
    x, y, w, h = reference()["2480.jpg"][0]["bbox"]
    with Image.open(result.root / "2480.jpg") as a, Image.open(ENA / "2480.jpg") as o:
        annotated = np.asarray(a.convert("RGB")).astype(int)
        original = np.asarray(o.convert("RGB")).astype(int)
    amber = np.array(COLOURS[Category.ANIMAL])
    # the middle of the box's left and bottom edges is amber (JPEG-close), and was not before
    for px, py in (
        (round(x * 1920) + 1, round((y + h / 2) * 1080)),
        (round((x + w / 2) * 1920), round((y + h) * 1080) - 1),
    ):
        assert np.abs(annotated[py, px] - amber).max() < 40
        assert np.abs(original[py, px] - amber).max() > 60
    # far from any box the photo is unchanged (JPEG re-encoding only)
    assert np.abs(annotated[100:200, 100:200] - original[100:200, 100:200]).mean() < 3


def test_report_loads_into_pandas_with_real_types(run_batch_cli) -> None:
    """What a researcher's analysis script does next: dates are dates, counts are numbers."""
    import pandas as pd

    _, _, _, result = run_batch_cli(ENA, "--from-json", MD_JSON)
    images = pd.read_excel(result.root / "report.xlsx", sheet_name="Media", engine="openpyxl")
    assert len(images) == 11
    assert pd.api.types.is_datetime64_any_dtype(images["captured"])
    assert images["animals"].sum() == 13  # 9455.jpg has 3 animals above 0.8, ten others one each
    csv = pd.read_csv(result.root / "images.csv", encoding="utf-8-sig")
    assert list(csv["file"]) == list(images["file"])


def test_json_readable_by_downstream_tools(run_batch_cli) -> None:
    """The fields Timelapse and AddaxAI rely on, with the types the format spec requires."""
    _, _, _, result = run_batch_cli(ENA, "--from-json", MD_JSON)
    data = result.json()
    assert isinstance(data["info"]["format_version"], str)
    datetime.strptime(data["info"]["detection_completion_time"], "%Y-%m-%d %H:%M:%S")
    for image in data["images"]:
        assert isinstance(image["detections"], list)
        for det in image["detections"]:
            assert det["category"] in data["detection_categories"]
            assert 0 <= det["conf"] <= 1
            x, y, w, h = det["bbox"]
            assert 0 <= x <= 1 and 0 <= y <= 1 and 0 <= x + w <= 1.0001 and 0 <= y + h <= 1.0001


def test_images_missing_from_the_json_become_error_rows(run_batch_cli) -> None:
    code, _, _, result = run_batch_cli(
        ENA / "49.jpg", DATA / "camera-trap" / "zamba-misc", "--from-json", MD_JSON
    )
    assert code == 0
    images = result.images_by_file()
    assert images["49.jpg"]["detections"]
    assert (
        images["zamba-misc/small_cat.jpg"]["failure"]
        == "not found in the MegaDetector results file"
    )
    assert images["zamba-misc/small_cat.jpg"]["detections"] is None


def test_numbers_are_cut_as_megadetector_cuts_them() -> None:
    from model_server.outputs.md_json import truncate

    assert truncate(0.98765, 3) == 0.987  # rounding would give 0.988
    assert truncate(0.123456, 4) == 0.1234  # rounding would give 0.1235
    assert truncate(0.0003214884, 3) == 0.000321  # significant digits, not decimal places
    assert truncate(1.0, 3) == 1.0 and truncate(0.0, 4) == 0.0 and truncate(1e-9, 3) == 0.0


def test_cutting_megadetector_numbers_again_changes_none() -> None:
    """Every conf and bbox value in files written by MegaDetector's own batch runner comes out as
    it went in (animl's file is written by another tool, at full float precision)."""
    from model_server.outputs.md_json import truncate

    checked = 0
    for name in ("ena.md.4.1.0.json",):  # the zamba file is a hand-written example
        data = json.loads((DATA / "megadetector-format" / name).read_text())
        for image in data["images"]:
            for det in image.get("detections") or []:
                assert truncate(det["conf"], 3) == det["conf"], (name, det)
                assert [truncate(v, 4) for v in det["bbox"]] == det["bbox"], (name, det)
                checked += 1
    assert checked > 100
