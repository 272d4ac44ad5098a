"""Tagging a whole event at once (issue 27, item 3), on both databases: the species lands on the
animal boxes of every file of the event nobody had reviewed (a reviewed file keeps its review),
the count the reviewer confirmed is kept for the event and used by the Events table and Camtrap
DP's event observation, and one undo puts every file and the count back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from model_server.outputs.camtrap_dp.tables import event_observations
from model_server.outputs.event_tables import EventTables
from shared.store.bulk_review import undo_bulk
from shared.store.event_data import job_events
from shared.store.event_tags import tag_event
from shared.store.queries import BadQuery
from shared.store.records import MediaRecord
from shared.store.review import ReviewAction, ReviewRefused, apply
from shared.store.schema import detections, media
from shared.store.writes import JobRow, add_media, finish_job, start_job

NOW = datetime(2026, 6, 1, tzinfo=UTC)
JOB = "T" * 32
DEER = "Odocoileus virginianus"


def deer(n: int, x: float = 0.0) -> list[dict]:
    return [{"category": "1", "conf": 0.9, "bbox": [x + 0.1 * i, 0, 0.1, 0.1]} for i in range(n)]


def a_burst(store) -> dict[str, int]:
    """Three photos 10 s apart (one event): 2, 1 and 2 deer; then one an hour later."""
    start_job(store, JobRow(JOB, NOW, "test", 0.3, 0.3, 0.01))
    at = ["2024-06-01T05:00:00", "2024-06-01T05:00:10", "2024-06-01T05:00:20", "2024-06-01T06:00"]
    records = [
        MediaRecord(f"cam/{i}.jpg", deer(n), ordinal=i, metadata={"captured": when})
        for i, (n, when) in enumerate(zip((2, 1, 2, 1), at, strict=True))
    ]
    add_media(store, JOB, records, 0.3, "test")
    finish_job(store, JOB, NOW, images=4, failures=0, counts={})
    with store.connect() as conn:
        return dict(conn.execute(select(media.c.path, media.c.id)).all())


def species_of(store, media_id: int) -> list:
    with store.connect() as conn:
        return sorted(
            (b.verdict or "", b.species or "")
            for b in conn.execute(
                select(detections.c.verdict, detections.c.species).where(
                    detections.c.media_id == media_id
                )
            )
        )


def test_one_action_tags_the_event_and_one_undo_takes_it_back(store) -> None:
    ids = a_burst(store)
    # the middle photo was already reviewed: its box was a false alarm
    with store.connect() as conn:
        box = conn.execute(
            select(detections.c.id).where(detections.c.media_id == ids["cam/1.jpg"])
        ).scalar_one()
    apply(store, JOB, ReviewAction("reject", "ana", detection_id=box), NOW)
    _, found = job_events(store, JOB, 60, 1)
    first = found[0]
    assert first.files == ["cam/0.jpg", "cam/1.jpg", "cam/2.jpg"] and first.maxn["animal"] == 2
    done = tag_event(store, JOB, first.id, species=DEER, count=4, reviewer="bo", now=NOW)
    assert (done["images"], done["count"], done["species"]) == (2, 4, DEER)
    assert species_of(store, ids["cam/0.jpg"]) == [("accepted", DEER)] * 2
    assert species_of(store, ids["cam/2.jpg"]) == [("accepted", DEER)] * 2
    assert species_of(store, ids["cam/1.jpg"]) == [("rejected", "")]  # kept as reviewed
    assert species_of(store, ids["cam/3.jpg"]) == [("", "")]  # another event
    tables = EventTables.of(*job_events(store, JOB, 60, 1))
    row = tables.event_rows()[0]
    assert (row["confirmed_species"], row["confirmed_count"], row["confirmed_by"]) == (
        DEER,
        4,
        "bo",
    )
    assert row["animals_maxn"] == 2 and row["counts_from"] == "reviewed"
    (observation,) = event_observations(tables.events[0], UTC, "test")
    assert (observation["scientificName"], observation["count"]) == (DEER, 4)
    assert observation["classificationMethod"] == "human"
    undone = undo_bulk(store, JOB, done["batch"], "bo", NOW)
    assert undone["undone"] == 2
    assert species_of(store, ids["cam/0.jpg"]) == [("", "")] * 2
    assert species_of(store, ids["cam/1.jpg"]) == [("rejected", "")]
    _, again = job_events(store, JOB, 60, 1)
    assert again[0].tag is None and again[0].source == "mixed"


def test_confirming_the_count_alone(store) -> None:
    ids = a_burst(store)
    _, found = job_events(store, JOB, 60, 1)
    later = found[1]
    apply(store, JOB, ReviewAction("accept", "ana", media_id=ids["cam/3.jpg"]), NOW)
    # every file reviewed already: nothing to accept, the count (its MaxN) is still kept
    done = tag_event(store, JOB, later.id, species=None, count=None, reviewer="ana", now=NOW)
    assert (done["images"], done["count"]) == (0, 1)
    _, tagged = job_events(store, JOB, 60, 1)
    assert tagged[1].tag is not None and tagged[1].tag.species is None
    (observation,) = event_observations(tagged[1], UTC, "test")
    assert (observation.get("scientificName"), observation["count"]) == (None, 1)
    # zero animals confirmed: the event is blank
    zero = tag_event(store, JOB, later.id, species=None, count=0, reviewer="ana", now=NOW)
    _, now_blank = job_events(store, JOB, 60, 1)
    assert now_blank[1].outcome == "empty"
    assert [o["observationType"] for o in event_observations(now_blank[1], UTC, "m")] == ["blank"]
    undo_bulk(store, JOB, zero["batch"], "ana", NOW)  # back to the first tag
    _, back = job_events(store, JOB, 60, 1)
    assert back[1].tag is not None and back[1].tag.count == 1


@pytest.mark.parametrize(
    ("event", "count", "error"),
    [("E999999", 1, BadQuery), ("", 1, ReviewRefused), ("E000001", -1, ReviewRefused)],
)
def test_bad_tags_are_refused(store, event: str, count: int, error: type) -> None:
    a_burst(store)
    with pytest.raises(error):
        tag_event(store, JOB, event, species=DEER, count=count, reviewer="ana", now=NOW)
