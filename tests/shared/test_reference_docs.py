"""The docs' reference pages are generated from these tables: every setting and every report
column has its meaning, and none is described that does not exist."""

from __future__ import annotations

from dataclasses import fields

from model_server.outputs.column_help import HELP as COLUMN_HELP
from model_server.outputs.event_tables import DEPLOYMENT_COLUMNS, EVENT_COLUMNS
from model_server.outputs.rows import DETECTION_COLUMNS, FRAME_COLUMNS, MEDIA_COLUMNS
from shared.settings import Settings
from shared.settings_help import HELP as SETTING_HELP

TABLES = {
    "media": MEDIA_COLUMNS,
    "frames": FRAME_COLUMNS,
    "detections": DETECTION_COLUMNS,
    "events": EVENT_COLUMNS,
    "deployments": DEPLOYMENT_COLUMNS,
}


def test_every_setting_has_its_meaning_and_only_settings_do() -> None:
    assert set(SETTING_HELP) == {f.name for f in fields(Settings)}
    assert all(text.strip() for text in SETTING_HELP.values())


def test_every_report_column_has_its_meaning_and_none_is_left_over() -> None:
    used = set()
    for table, columns in TABLES.items():
        for column in columns:
            key = f"{table}.{column}" if f"{table}.{column}" in COLUMN_HELP else column
            assert key in COLUMN_HELP, f"{table}.{column} has no meaning"
            used.add(key)
    assert set(COLUMN_HELP) - used == set(), "meanings of columns no writer writes"
