"""The results store on SQLite and on a real PostgreSQL: what goes in comes back exactly, in
upload order, page after page; a file is stored once per job; a job's removal takes all of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from shared.store.reads import ended_before, iter_media, job_row
from shared.store.records import MediaRecord
from shared.store.schema import detections, media, reviews
from shared.store.writes import (
    DuplicateMedia,
    JobRow,
    add_media,
    delete_job,
    done_paths,
    finish_job,
    start_job,
)

CREATED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def job(job_id: str = "job-a", **changes: object) -> JobRow:
    values: dict = {
        "id": job_id,
        "created_at": CREATED,
        "model_name": "test model",
        "threshold": 0.4,
        "render_threshold": 0.3,
        "min_confidence": 0.005,
        "model_meta": {"detector_id": "t.pb"},
        "skipped": ["notes.txt"],
    }
    values.update(changes)
    return JobRow(**values)


def record(i: int, path: str | None = None, **changes: object) -> MediaRecord:
    values: dict = {
        "file": path or f"cam{i % 3}/IMG_{i:05d}.JPG",
        "ordinal": i,
        "width": 4000,
        "height": 3000,
        "detections": [
            {
                "category": "1",
                "conf": 0.123456789012345 + i / 1e6,
                "bbox": [0.1, 0.2, 0.30000000000000004, 0.4],
            },
            {"category": "2", "conf": 0.9, "bbox": [0.5, 0.5, 0.1, 0.1]},
        ][: i % 3],
        "metadata": {
            "captured": f"2024-05-0{1 + i % 5}T10:0{i % 10}:00",
            "captured_from": "DateTimeOriginal",
            "make": "RECONYX",
            "model": "HF2",
            "serial": "S1",
            "latitude": -33.123456789,
            "longitude": 151.5,
            "altitude_m": 12.25,
            "altitude_ref": "above sea level",
            "exif_notes": "a note",
        },
        "annotated": f"{i:06d}.jpg",
        "thumbnail": f"{i:07d}.jpg",
    }
    values.update(changes)
    return MediaRecord(**values)


def test_what_goes_in_comes_back_exactly_in_upload_order(store) -> None:
    start_job(store, job())
    records = [record(i) for i in range(1203)]
    records.append(
        record(
            1203,
            "broken.jpg",
            failure="not a readable image",
            detections=[],
            width=None,
            height=None,
            metadata={},
        )
    )
    # stored out of order and in several transactions, as resumed runs do
    add_media(store, "job-a", records[600:], 0.4, "test model")
    add_media(store, "job-a", records[:600], 0.4, "test model")
    back = list(iter_media(store, "job-a", page=250))
    assert [r.file for r in back] == [r.file for r in records]
    for original, stored in zip(records, back, strict=True):
        # every digit of every float; read back, each box also has its id and review fields
        assert [
            {k: d[k] for k in ("category", "conf", "bbox")} for d in stored.detections
        ] == original.detections
        assert all(
            d["id"] and d["source"] == "machine" and d["verdict"] is None for d in stored.detections
        )
        assert stored.failure == original.failure
        assert (stored.width, stored.height) == (original.width, original.height)
        assert stored.captured == original.captured
        for key in ("make", "serial", "latitude", "longitude", "altitude_m", "exif_notes"):
            assert stored.metadata[key] == (
                original.metadata.get(key)
                or ("" if key in ("make", "serial", "exif_notes") else None)
            )
    assert back[1].metadata["map_link"].startswith("https://www.openstreetmap.org/?mlat=-33.1")
    with store.connect() as conn:
        rows = {r.path: r for r in conn.execute(select(media))}
    one = rows["cam1/IMG_00001.JPG"]  # one animal at 0.123: below the job's threshold
    assert (one.outcome, one.animals, one.max_conf) == ("empty", 0, pytest.approx(0.12345779))
    two = rows["cam2/IMG_00002.JPG"]  # and a person at 0.9
    assert (two.outcome, two.persons, two.folder) == ("person", 1, "cam2")
    assert rows["broken.jpg"].outcome == "error"


def test_a_file_is_stored_once_per_job_and_a_refused_batch_leaves_nothing(store) -> None:
    start_job(store, job())
    start_job(store, job("job-b"))
    add_media(store, "job-a", [record(0), record(1)], 0.4, "m")
    add_media(store, "job-b", [record(0)], 0.4, "m")  # the same path in another job is fine
    with pytest.raises(DuplicateMedia):
        add_media(store, "job-a", [record(2), record(1)], 0.4, "m")
    assert done_paths(store, "job-a") == {record(0).file, record(1).file}


def test_a_resumed_run_keeps_when_the_job_was_made(store) -> None:
    start_job(store, job())
    start_job(
        store,
        job(model_name="another model", threshold=0.2, created_at=datetime(2030, 1, 1, tzinfo=UTC)),
    )
    found = job_row(store, "job-a")
    assert found is not None
    assert (found.created_at, found.model_name, found.threshold) == (CREATED, "another model", 0.2)
    finish_job(
        store,
        "job-a",
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        images=3,
        failures=1,
        counts={"outcomes": {"empty": 2, "error": 1}},
    )
    found = job_row(store, "job-a")
    assert found is not None and found.finished_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert (found.images, found.counts["outcomes"]["error"]) == (3, 1)
    assert ended_before(store, datetime(2026, 3, 1, 9, 1, tzinfo=UTC)) == ["job-a"]
    assert ended_before(store, datetime(2026, 3, 1, 8, 59, tzinfo=UTC)) == []


def test_removing_a_job_takes_all_of_it_and_nothing_else(store) -> None:
    for name in ("job-a", "job-b"):
        start_job(store, job(name))
        add_media(store, name, [record(i) for i in range(30)], 0.4, "m")
    with store.begin() as conn:
        media_id = conn.execute(select(media.c.id).where(media.c.job_id == "job-a")).scalar()
        conn.execute(
            reviews.insert().values(
                job_id="job-a", media_id=media_id, action="accept", reviewer="r", created_at=CREATED
            )
        )
    assert delete_job(store, "job-a") is True
    assert delete_job(store, "job-a") is False
    assert job_row(store, "job-a") is None and job_row(store, "job-b") is not None
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(media)).scalar() == 30
        assert conn.execute(select(func.count()).select_from(detections)).scalar() == 30
