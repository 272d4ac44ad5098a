"""Camtrap DP checks shared by the tests: the published 1.0.2 schemas beside the repo and the
offline frictionless validator over them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from model_server.outputs.camtrap_dp.validation import Problem, validate
from tests.conftest import DATA

SCHEMAS = DATA / "camtrap-dp"
EXAMPLE = SCHEMAS / "example"


def problems(package: Path) -> list[Problem]:
    """`package` is a folder holding datapackage.json."""
    return validate(package / "datapackage.json", SCHEMAS)


def schema_fields(table: str) -> list[str]:
    schema = json.loads((SCHEMAS / f"{table}-table-schema.json").read_text(encoding="utf-8"))
    return [f["name"] for f in schema["fields"]]


def rows(package: Path, table: str) -> list[dict[str, str]]:
    with (package / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def descriptor(package: Path) -> dict:
    return json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
