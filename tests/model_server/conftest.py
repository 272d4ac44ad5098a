from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from model_server.cli import main as batch_main


class Result:
    """An opened result zip, read the way a researcher would."""

    def __init__(self, path: Path, into: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.names = sorted(archive.namelist())
            archive.extractall(into)
        self.root = into

    def workbook(self):
        import openpyxl

        return openpyxl.load_workbook(self.root / "report.xlsx")

    def json(self) -> dict:
        import json

        return json.loads((self.root / "detections.json").read_text(encoding="utf-8"))

    def images_by_file(self) -> dict[str, dict]:
        return {im["file"]: im for im in self.json()["images"]}

    def sheet_rows(self, name: str) -> list[dict]:
        ws = self.workbook()[name]
        rows = list(ws.iter_rows())
        header = [c.value for c in rows[0]]
        return [dict(zip(header, row)) for row in rows[1:]]

    def sheet_values(self, name: str) -> list[dict]:
        return [{k: c.value for k, c in row.items()} for row in self.sheet_rows(name)]


@pytest.fixture
def run_batch_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Runs `trapline-batch` in-process; returns (exit code, stdout, stderr, Result or None)."""

    def run(*args: str | Path) -> tuple[int, str, str, Result | None]:
        out = tmp_path / "out.zip"
        code = batch_main([*(str(a) for a in args), "-o", str(out), "--quiet"])
        captured = capsys.readouterr()
        result = Result(out, tmp_path / "unzipped") if out.exists() else None
        return code, captured.out, captured.err, result

    return run
