"""The dashboard's questions on SQLite and PostgreSQL: hours and days by the camera's clock,
wider bars for longer surveys, and each folder's median GPS position."""

from __future__ import annotations

import pytest

from shared.store.insights import by_day, by_hour, cameras
from shared.store.writes import add_media, start_job
from tests.shared.store.test_results_store import job, record

ANIMAL = [{"category": "1", "conf": 0.9, "bbox": [0.1, 0.1, 0.2, 0.2]}]


def shot(
    i: int,
    folder: str,
    captured: str | None,
    gps: tuple[float, float] | None = None,
    detections: list | None = None,
):
    meta: dict[str, object] = {"captured": captured}
    if gps:
        meta.update(latitude=gps[0], longitude=gps[1])
    return record(
        i,
        f"{folder}/{i}.jpg",
        metadata=meta,
        detections=ANIMAL if detections is None else detections,
    )


def test_hours_days_and_positions(store) -> None:
    start_job(store, job())
    add_media(
        store,
        "job-a",
        [
            shot(0, "c1", "2024-05-01T23:59:59", (10.0, 20.0)),
            shot(1, "c1", "2024-05-03T00:00:00", (10.2, 20.2)),
            shot(2, "c1", "2024-05-03T00:30:00", (10.1, 20.1), detections=[]),
            shot(3, "c2", None),
        ],
        0.4,
        "m",
    )
    hours = {h["hour"]: (h["images"], h["animal"]) for h in by_hour(store, "job-a")}
    assert len(hours) == 24 and hours[23] == (1, 1) and hours[0] == (2, 1) and hours[5] == (0, 0)
    days = by_day(store, "job-a")
    assert days["unit"] == "day"
    assert [(d["day"], d["animal"]) for d in days["rows"]] == [
        ("2024-05-01", 1),
        ("2024-05-02", 0),
        ("2024-05-03", 1),
    ]
    found = {c["folder"]: c for c in cameras(store, "job-a")}
    assert (found["c1"]["latitude"], found["c1"]["longitude"]) == pytest.approx((10.1, 20.1))
    assert found["c1"]["with_gps"] == 3 and found["c1"]["first"] == "2024-05-01T23:59:59"
    assert found["c2"]["latitude"] is None and found["c2"]["first"] is None


@pytest.mark.parametrize(
    ("last", "unit", "first_bin", "bins"),
    [
        ("2024-10-27T12:00:00", "day", "2024-05-01", 180),  # 179 days: one bar a day
        ("2024-12-31T12:00:00", "week", "2024-04-29", 36),  # weeks start on Monday
        ("2028-01-15T12:00:00", "month", "2024-05-01", 45),
    ],
)
def test_longer_surveys_get_wider_bars(
    store, last: str, unit: str, first_bin: str, bins: int
) -> None:
    start_job(store, job())
    add_media(store, "job-a", [shot(0, "c", "2024-05-01T08:00:00"), shot(1, "c", last)], 0.4, "m")
    days = by_day(store, "job-a")
    assert days["unit"] == unit and days["rows"][0]["day"] == first_bin
    assert len(days["rows"]) == bins
    assert sum(r["images"] for r in days["rows"]) == 2
