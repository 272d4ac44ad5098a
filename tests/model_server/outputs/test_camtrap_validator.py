"""The validator itself, shown to work: the official Camtrap DP example passes it offline, and
copies of it broken in one way each fail it, naming what is wrong."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from model_server.outputs.camtrap_dp.tables import (
    DEPLOYMENT_FIELDS,
    MEDIA_FIELDS,
    OBSERVATION_FIELDS,
)
from model_server.outputs.camtrap_dp.validation import LocalFiles, schema_files
from tests.camtrap import EXAMPLE, SCHEMAS, problems, schema_fields


def test_the_official_example_passes_offline() -> None:
    assert problems(EXAMPLE) == []


def test_our_columns_are_the_schemas_columns_in_order() -> None:
    assert list(DEPLOYMENT_FIELDS) == schema_fields("deployments")
    assert list(MEDIA_FIELDS) == schema_fields("media")
    assert list(OBSERVATION_FIELDS) == schema_fields("observations")


def test_nothing_is_fetched_from_the_internet() -> None:
    import requests

    session = requests.Session()
    session.mount("https://", LocalFiles(schema_files(SCHEMAS)))
    with pytest.raises(requests.ConnectionError, match="no local copy"):
        session.get("https://example.org/other-schema.json")


def broken_copy(tmp_path: Path, table: str, row: int, column: str, value: str) -> Path:
    target = tmp_path / "package"
    target.mkdir()
    for name in ("datapackage.json", "deployments.csv", "media.csv", "observations.csv"):
        shutil.copy(EXAMPLE / name, target / name)
    with (target / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, data = reader.fieldnames, list(reader)
    assert fields is not None and data[row][column] != value
    data[row][column] = value
    with (target / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(data)
    return target


@pytest.mark.parametrize(
    ("table", "column", "value", "words"),
    [
        ("observations", "bboxX", "1.2", "constraint"),  # a box over 1
        ("media", "timestamp", "2020-05-30T04:57:37", "type"),  # no timezone
        ("observations", "mediaID", "no-such-media", "foreign"),  # a media id that does not exist
    ],
)
def test_a_broken_package_fails(
    tmp_path: Path, table: str, column: str, value: str, words: str
) -> None:
    found = problems(broken_copy(tmp_path, table, 1, column, value))
    assert found, "the validator accepted a broken package"
    assert any(p.where == table and words in p.message.lower() for p in found), found
