"""The Excel report as LibreOffice Calc prints it (issue 28, item 5): a real batch of trap photos
with capture times, converted to PDF by LibreOffice headless (Debian's `libreoffice-calc`,
which the test setup installs) and read back with `pdftotext`: no cell prints `###`, the
dates of the Events and Deployments sheets are whole, the Summary prints landscape on one
page's width, and the per-folder chart's axes carry their own titles."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DATA

CAMTRAPR = DATA / "camera-trap" / "camtrapR-burst-StationC-TRA"
HERON = DATA / "camtrap-dp" / "example" / "media"
SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.slow


def printed(report: Path, into: Path) -> str:
    """The workbook as LibreOffice prints it, as text."""
    assert SOFFICE and shutil.which("pdftotext"), "scripts/setup.sh --test installs them"
    profile = into / "lo-profile"  # its own profile: no first-start dialogs, no shared state
    subprocess.run(
        [
            str(SOFFICE),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(into),
            str(report),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = into / (report.stem + ".pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text


def axis_titles(chart_xml: str) -> dict[str, str]:
    """{"catAx": its title, "valAx": its title} of a chart part."""
    found = {}
    for axis in ("catAx", "valAx"):
        block = re.search(rf"<c:{axis}>(.*?)</c:{axis}>", chart_xml, re.DOTALL)
        assert block is not None, axis
        found[axis] = "".join(re.findall(r"<a:t>([^<]*)</a:t>", block.group(1)))
    return found


def test_the_report_prints_whole_in_libreoffice(
    red_patch_model: Path, run_batch_cli, tmp_path: Path
) -> None:
    code, _out, err, result = run_batch_cli(CAMTRAPR, HERON, "--model", red_patch_model)
    assert code == 0, err
    report = result.root / "report.xlsx"
    text = printed(report, tmp_path)
    assert "###" not in text
    assert "2009-04-11 21:44:00" in text  # an Events/Deployments start, printed whole
    assert "2021-04-11 20:43:09" in text
    with zipfile.ZipFile(report) as book:
        charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/")]
        summary = book.read("xl/worksheets/sheet1.xml").decode()
    titles = [axis_titles(xml) for xml in charts]
    assert {"catAx": "Folder", "valAx": "Detections (boxes at or above 0.8)"} in titles
    assert {
        "catAx": "Hour of day (camera clock)",
        "valAx": "Detections (boxes at or above 0.8)",
    } in titles
    assert 'orientation="landscape"' in summary and 'fitToHeight="0"' in summary
    assert '<pageSetUpPr fitToPage="1"/>' in summary
