"""An export is one instant of the review (issue 33, item 4), on SQLite and PostgreSQL: a bulk
accept of all 1,200 images commits while the export is between its pages of 500. The export says
0 of 1,200 reviewed (before) and the next one 1,200 (after), never 700, a state that never
existed; and its events agree with its rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from model_server.outputs.export import ExportTarget, write_outputs
from model_server.outputs.run_info import run_from_job
from shared.events.model import DEFAULT_EVENT_GAP
from shared.store.bulk_review import bulk_accept
from shared.store.event_data import job_events
from shared.store.queries import MediaQuery
from shared.store.reads import iter_media, job_row
from shared.store.snapshot import snapshot
from shared.store.writes import add_media, finish_job, start_job
from tests.shared.store.test_results_store import job, record
from tests.shared.store.test_review import NOW

IMAGES = 1_200


@pytest.fixture
def card(store: Engine) -> Engine:
    meta = {
        "name": "test model",
        "detector_id": "t.pb",
        "typical_threshold": 0.2,
        "conservative_threshold": 0.8,
        "categories": ["1", "2", "3"],
    }
    start_job(store, job("job-a", model_meta=meta))
    add_media(store, "job-a", [record(i) for i in range(IMAGES)], 0.4, "m")
    finish_job(store, "job-a", NOW, images=IMAGES, failures=0, counts={})
    return store


def reviewed_rows(reports: Path) -> int:
    with (reports / "images.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == IMAGES
    column = next(name for name in rows[0] if "review" in name.lower())
    return sum(1 for r in rows if r[column])


def export(store: Engine, tmp_path: Path, name: str, accept_at: int | None = None) -> int:
    """Exports the card (reports only); with `accept_at`, a bulk accept of every image commits
    when the report has read that many images. How many images the export counts reviewed."""
    row = job_row(store, "job-a")
    assert row is not None

    def progress(stage: str, done: int) -> None:
        if stage == "report" and done == accept_at:
            accepted = bulk_accept(store, "job-a", MediaQuery(), "Ann", NOW)
            assert accepted["images"] == IMAGES  # it committed, mid-export

    target = ExportTarget(store, "job-a", tmp_path / name, tmp_path / f"{name}.zip")
    tally, _ = write_outputs(target, run_from_job(row), None, progress=progress)
    reviewed = sum(tally.verified.values())
    assert reviewed_rows(target.reports_dir) == reviewed
    return reviewed


def test_an_export_never_mixes_before_and_after_a_bulk_accept(card: Engine, tmp_path) -> None:
    assert export(card, tmp_path, "during", accept_at=500) == 0
    assert export(card, tmp_path, "after") == IMAGES


def test_every_read_of_a_snapshot_sees_one_instant(card: Engine) -> None:
    """Pages, events and rows read through one snapshot agree while another connection
    commits; a read after the snapshot sees the commit."""
    with snapshot(card) as store:
        pages = iter_media(store, "job-a", page=100)
        first = [next(pages) for _ in range(100)]
        bulk_accept(card, "job-a", MediaQuery(), "Ann", NOW)
        rest = list(pages)
        _, events = job_events(store, "job-a", DEFAULT_EVENT_GAP, 1)
        assert [r.review for r in first + rest] == [""] * IMAGES
        assert not any(e.reviewed for e in events)
    assert {r.review for r in iter_media(card, "job-a")} == {"accepted"}
