"""`trapline-evaluate` on real truth: YOLOX-Nano's detections on the Camtrap DP example burst
against the package's boxes, and MegaDetector v4.1's real ENA24 results against zamba's COCO
Camera Traps file and label CSV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from shared.evaluation.metrics import iou
from tests.conftest import DATA, YOLOX_TFLITE

PACKAGE = DATA / "camtrap-dp" / "example"
ENA24 = DATA / "megadetector-format"
EVALUATE = Path(sys.executable).with_name("trapline-evaluate")  # the installed entry point


def evaluate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EVALUATE, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def sheets(path: Path) -> dict[str, list[dict]]:
    book = openpyxl.load_workbook(path, read_only=True)
    found = {}
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        found[ws.title] = [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]
    book.close()
    return found


@pytest.mark.slow
def test_yolox_on_the_camtrap_dp_burst(run_batch_cli, tmp_path: Path) -> None:
    code, _, _, result = run_batch_cli(PACKAGE / "media", "--model", YOLOX_TFLITE)
    assert code == 0 and result is not None
    report = tmp_path / "evaluation.xlsx"
    done = evaluate(
        result.root / "detections.json",
        PACKAGE,
        "-o",
        report,
        "--threshold",
        "0.25",
        "--recall",
        "0.9",
    )
    assert done.returncode == 0, done.stderr
    assert "10 images evaluated at threshold 0.25" in done.stdout
    assert "413 truth file(s) without result" in done.stdout  # the package's online media

    # what to expect, worked out from the JSON and the package's own rows, not by the tool
    images = {Path(i["file"]).name: i["detections"] for i in result.json()["images"]}
    truth = {}
    media_rows = [r.split(",") for r in (PACKAGE / "media.csv").read_text().splitlines()]
    local = {r[0]: r[6] for r in media_rows if r[4].startswith("media/")}
    for line in (PACKAGE / "observations.csv").read_text().splitlines()[1:]:
        cells = line.split(",")
        if cells[2] in local:
            truth[local[cells[2]]] = [float(v) for v in cells[18:22]]
    assert len(truth) == 10
    found = {
        name
        for name, dets in images.items()
        if any(d["category"] == "1" and d["conf"] >= 0.25 for d in dets)
    }
    boxed = {
        name
        for name, dets in images.items()
        if any(
            d["category"] == "1"
            and d["conf"] >= 0.25
            and iou(tuple(d["bbox"]), tuple(truth[name])) >= 0.5
            for d in dets
        )
    }
    book = sheets(report)
    animal = next(r for r in book["Evaluation"] if r["category"] == "animal")
    assert (
        animal["true_positives"],
        animal["false_positives"],
        animal["misses"],
        animal["images"],
    ) == (len(found), 0, 10 - len(found), 10)
    assert animal["recall"] == pytest.approx(len(found) / 10)
    boxes = next(r for r in book["Boxes"] if r["category"] == "animal")
    assert boxes["true_positives"] == len(boxed)
    assert len(found) >= 5, "YOLOX-Nano should find the heron in most frames"
    curve = [r for r in book["Curve"] if r["category"] == "animal"]
    assert curve[0]["threshold"] == max(
        max((d["conf"] for d in dets if d["category"] == "1"), default=0)
        for dets in images.values()
    )
    # the highest threshold reaching 90 % of the frames: the 9th best animal confidence
    best = sorted(
        (
            max((d["conf"] for d in dets if d["category"] == "1"), default=0)
            for dets in images.values()
        ),
        reverse=True,
    )
    sentence = f"use {best[8]} for a recall of 90.0% of animal"
    assert sentence in done.stdout
    book = openpyxl.load_workbook(report, read_only=True)
    about = dict(book["About"].iter_rows(values_only=True))
    book.close()
    assert about["Recall target"].startswith(sentence)


def test_megadetector_v4_results_against_coco_and_labels(tmp_path: Path) -> None:
    results = ENA24 / "ena.md.4.1.0.json"
    coco = evaluate(
        results, ENA24 / "zamba_ena24_small_coco_annotations.json", "-o", tmp_path / "coco.xlsx"
    )
    assert coco.returncode == 0, coco.stderr
    assert "21 images evaluated at threshold 0.8" in coco.stdout  # MDv4's typical threshold
    book = sheets(tmp_path / "coco.xlsx")
    rows = {r["category"]: r for r in book["Evaluation"]}
    assert (rows["animal"]["true_positives"], rows["animal"]["misses"]) == (21, 0)
    assert rows["person"]["precision"] is None  # nothing flagged, nothing there: undefined
    # zamba's COCO file is a parsing fixture: its boxes are placeholders (the same
    # [100, 100, 440, 280] on different photos), so no real detection overlaps them
    assert next(r for r in book["Boxes"] if r["category"] == "animal")["true_positives"] == 0
    not_paired = book["Not evaluated"]
    assert len(not_paired) == 8789 - 21
    assert {r["kind"] for r in not_paired} == {"result without truth"}

    labels = evaluate(
        results,
        ENA24 / "zamba_ena24_small_labels.csv",
        "-o",
        tmp_path / "labels.xlsx",
        "--threshold",
        "0.999",
    )
    assert labels.returncode == 0, labels.stderr
    rows = {r["category"]: r for r in sheets(tmp_path / "labels.xlsx")["Evaluation"]}
    assert rows["animal"]["true_positives"] + rows["animal"]["misses"] == 21
    assert sheets(tmp_path / "labels.xlsx")["Boxes"] == []  # labels only: no box figures


def test_refusals_name_the_problem(tmp_path: Path) -> None:
    missing = evaluate(
        ENA24 / "ena.md.4.1.0.json", tmp_path / "nope.csv", "-o", tmp_path / "r.xlsx"
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    bad = evaluate(junk, ENA24 / "zamba_ena24_small_labels.csv", "-o", tmp_path / "r.xlsx")
    assert bad.returncode == 1 and "not a readable MegaDetector results file" in bad.stderr
    nothing = evaluate(
        ENA24 / "zamba_ena24_small_md_annotations.json", PACKAGE, "-o", tmp_path / "r.xlsx"
    )
    assert nothing.returncode == 1 and "No image could be compared" in nothing.stdout
