"""The threshold cannot change under a running job (issue 33, item 5), on SQLite and
PostgreSQL: while the model server is still storing a job's files (its row started, not
finished), POST /threshold is refused with 409 and changes nothing; once the job has finished it
is applied."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shared.storage import new_job_id
from shared.store.schema import jobs
from shared.store.writes import add_media, finish_job, start_job
from tests.shared.store.test_results_store import job, record
from tests.shared.store.test_review import box
from tests.web.helpers import SCRIPT

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


@BOTH
def test_no_threshold_change_until_the_job_has_finished(app, client, settings) -> None:
    store = app.extensions["trapline.store"]
    job_id = new_job_id()
    start_job(store, job(job_id))  # as the model server does when it takes the job
    add_media(store, job_id, [record(0, "a.jpg", detections=[box("1", 0.35)])], 0.4, "m")
    url = f"/api/jobs/{job_id}/threshold"
    with client.post(url, json={"threshold": 0.3}, headers=SCRIPT) as refused:
        assert refused.status_code == 409
        assert "still being processed" in refused.get_json()["error"]
    with store.connect() as conn:
        assert conn.execute(select(jobs.c.threshold).where(jobs.c.id == job_id)).scalar() == 0.4
    finish_job(store, job_id, datetime(2026, 6, 1, tzinfo=UTC), images=1, failures=0, counts={})
    with client.post(url, json={"threshold": 0.3}, headers=SCRIPT) as applied:
        assert applied.status_code == 200, applied.get_json()
    with store.connect() as conn:
        assert conn.execute(select(jobs.c.threshold).where(jobs.c.id == job_id)).scalar() == 0.3
