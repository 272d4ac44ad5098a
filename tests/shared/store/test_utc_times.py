"""Every stored time is aware UTC, whatever the zone of the model server's process and of the
PostgreSQL session: one instant is one value, and cleanup ages do not shift by the offset.
(Capture times stay the camera's own wall clock; they are not tested here.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.contract import JobStatus
from shared.store.reads import aware, ended_before, job_row
from tests.processes import state_of
from tests.web.helpers import SCRIPT, form, photo, zip_of

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def zoned(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Berlin for this process (08:00 UTC is 09:00 or 10:00 here) and New York for every
    PostgreSQL session of the test database, set before any engine connects."""
    if settings.database_url.startswith("postgresql"):
        url = sa.make_url(settings.database_url)
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                sa.text(f"ALTER DATABASE \"{url.database}\" SET timezone TO 'America/New_York'")
            )
        admin.dispose()
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@BOTH
def test_a_jobs_times_are_stored_as_utc_in_any_zone(zoned, client, run_worker, redis_conn) -> None:
    assert datetime(2026, 6, 1, 8).astimezone().utcoffset() == timedelta(hours=2)  # Berlin
    upload = zip_of({"cam/a.jpg": photo(1), "cam/b.jpg": photo(2)})
    response = client.post(
        "/api/jobs",
        data=form(files=[(upload, "site.zip")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    job_id = response.get_json()["id"]
    run_worker()
    state = state_of(redis_conn, job_id)
    assert state.status is JobStatus.FINISHED
    assert state.started_at is not None and state.finished_at is not None
    engine = client.application.extensions["trapline.store"]
    if engine.dialect.name == "postgresql":
        plain = sa.create_engine(engine.url)  # a session as any other client gets one
        with plain.connect() as conn:
            assert conn.execute(sa.text("SHOW timezone")).scalar() == "America/New_York"
            raw = conn.execute(sa.text("SELECT finished_at FROM jobs")).scalar()
        plain.dispose()
        assert raw is not None  # the stored instant itself:
        assert abs(raw.timestamp() - state.finished_at) < 5
        assert (read := aware(raw)) is not None and read.utcoffset() == timedelta(0)
    row = job_row(engine, job_id)
    assert row is not None and row.started_at and row.finished_at
    for moment in (row.created_at, row.started_at, row.finished_at):
        assert moment is not None and moment.utcoffset() == timedelta(0)
    # the same instants the live record holds (epoch seconds), not shifted by an hour or six
    assert abs(row.created_at.timestamp() - state.created_at) < 1
    assert abs(row.started_at.timestamp() - state.started_at) < 5
    assert abs(row.finished_at.timestamp() - state.finished_at) < 5
    finished = datetime.fromtimestamp(state.finished_at, UTC)
    assert job_id in ended_before(engine, finished + timedelta(minutes=1))
    assert job_id not in ended_before(engine, finished - timedelta(minutes=1))
