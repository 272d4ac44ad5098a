"""The Summary sheet's activity tables and the native Excel charts drawn from them."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tests.images import exif_block, jpeg_bytes, red_patch_image


def write(path: Path, *, when: str | None, animal: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = red_patch_image((120, 90), (5, 5, 40, 40) if animal else (0, 0, 0, 0))
    path.write_bytes(jpeg_bytes(image, exif_block(when=when, gps=None) if when else b""))


def test_summary_has_hour_and_folder_tables_with_charts(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    cards = tmp_path / "cards"
    write(cards / "north" / "1.jpg", when="2023:07:01 06:10:00")
    write(cards / "north" / "2.jpg", when="2023:07:02 06:50:00")
    write(cards / "south" / "3.jpg", when="2023:07:02 21:05:00", animal=False)
    write(cards / "south" / "4.jpg", when=None)
    code, _, _, result = run_batch_cli(cards, "--model", red_patch_model, "--threshold", "0.4")
    assert code == 0 and result is not None
    rows = [[c.value for c in row] for row in result.workbook()["Summary"].iter_rows()]
    start = next(
        i for i, r in enumerate(rows) if r[0] == "Detections by hour of day (camera clock)"
    )
    assert rows[start + 1][:4] == ["Hour", "animal", "person", "vehicle"]
    hours = {r[0]: r[1:4] for r in rows[start + 2 : start + 26]}
    # the red patch is an animal (0.95), the graph always adds a person (0.5): both count at
    # 0.4; the photo without EXIF has no hour
    assert hours[6] == [2, 2, 0] and hours[21] == [0, 1, 0]
    assert sum(sum(v) for v in hours.values()) == 5
    first = next(
        i for i, r in enumerate(rows) if r[0] == "Images and detections per folder (camera)"
    )
    folders = {r[0]: r[1:5] for r in rows[first + 2 :] if r[0]}
    assert folders["north"] == [2, 2, 0, 2] and folders["south"] == [1, 2, 0, 2]

    with zipfile.ZipFile(result.root / "report.xlsx") as book:
        charts = sorted(n for n in book.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = [book.read(n).decode() for n in charts]
    assert len(xml) == 2
    hour_chart = next(x for x in xml if "Detections by hour of day" in x)
    refs = re.findall(r"<c:f>([^<]*)</c:f>", hour_chart)
    row = start + 3  # Excel counts from 1
    assert f"Summary!$A${row}:$A${row + 23}" in refs and f"Summary!$B${row}:$B${row + 23}" in refs
    assert '<c:grouping val="stacked"/>' in hour_chart
    assert any("Detections per folder" in x and "Folder" in x for x in xml)
