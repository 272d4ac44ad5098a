"""A project's export survives the death of its model server as a job's export does: kill -9 in
the middle of writing a season's reports, and the next server makes the export, once, from the
same record; a stale attempt publishes nothing."""

from __future__ import annotations

import csv
import io
import signal
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from shared.contract import FollowUpState, load_state
from shared.leases import has_lease
from shared.people.projects import create_project, put_job
from shared.people.users import create_user
from shared.storage import Storage, new_job_id
from shared.store import open_configured_store
from shared.store.records import MediaRecord
from shared.store.writes import JobRow, add_media, finish_job, start_job
from shared.surveys.project_exports import export_record, request_export
from tests.processes import wait_for
from tests.reliability.test_faults import LEASE

pytestmark = pytest.mark.slow
CARDS, PER_CARD = 3, 1500  # enough rows that the report stage outlasts the kill by seconds
NOW = datetime(2026, 6, 1, tzinfo=UTC)
# the cards' detector as the store records it (this test writes the store, not a detector)
MODEL_NAME = "stored by the test"
MODEL: dict[str, object] = {
    "name": MODEL_NAME,
    "detector_id": "test.pb",
    "typical_threshold": 0.2,
    "conservative_threshold": 0.05,
    "categories": ["1", "2", "3"],
}


def stored_card(engine, job_id: str, start: datetime) -> None:
    """A finished card as a detection run leaves it in the store: one camera folder, a photo
    a minute, a box on every third."""
    start_job(
        engine,
        JobRow(job_id, NOW, MODEL_NAME, 0.2, 0.2, 0.005, MODEL, started_at=NOW),
    )
    records = [
        MediaRecord(
            f"Camera1/IMG_{i:05d}.JPG",
            [{"category": "1", "conf": 0.9, "bbox": [0.1, 0.1, 0.2, 0.2]}] if i % 3 == 0 else [],
            width=1920,
            height=1080,
            metadata={"captured": (start + timedelta(minutes=i)).isoformat(), "serial": "SN-7"},
            ordinal=i,
        )
        for i in range(PER_CARD)
    ]
    for at in range(0, PER_CARD, 500):
        add_media(engine, job_id, records[at : at + 500], 0.2, MODEL_NAME)
    finish_job(engine, job_id, NOW, images=PER_CARD, failures=0, counts={})


def survey(settings) -> int:
    engine = open_configured_store(settings)
    try:
        owner = create_user(engine, "alice", "alice@example.org", None, now=NOW)
        project = create_project(engine, "Ridge survey", owner, now=NOW)
        for card in range(CARDS):
            job_id = new_job_id()
            stored_card(engine, job_id, datetime(2026, 3, 1) + timedelta(days=10 * card))
            put_job(engine, job_id, project.id, uploader_id=owner.id, now=NOW)
        return project.id
    finally:
        engine.dispose()


def test_kill_9_mid_project_export_is_made_once_by_the_next_server(
    workers, redis_conn, settings
) -> None:
    project_id = survey(settings)
    record = request_export(redis_conn, project_id, CARDS * PER_CARD)
    first_rq_id = record.follow_up

    def now_state():
        found = load_state(redis_conn, record.id)
        assert found is not None
        return found

    doomed = workers.start(**LEASE)
    # stopped once the record says the first 500 rows are written: 4,000 rows, the Camtrap DP
    # tables and their validation are still to come
    wait_for(
        lambda: now_state().export_progress.get("done", 0) >= 500,
        timeout=180,
        what="the project's export under way",
    )
    doomed.send_signal(signal.SIGSTOP)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    killed = now_state()
    assert killed.follow_up == first_rq_id and killed.exported_at is None  # died mid-export
    assert killed.follow_up_state == FollowUpState.RUNNING.value
    zip_path = Storage(settings.data_dir).project_zip(project_id)
    assert not zip_path.exists()  # nothing half-made was published
    wait_for(
        lambda: not has_lease(redis_conn, record.id, follow_up=True),
        timeout=10,
        what="lease expiry",
    )

    workers.start("--burst", **LEASE)
    wait_for(lambda: now_state().exported_at, timeout=300, what="the project's export")
    wait_for(lambda: workers.procs[-1][0].poll() is not None, timeout=60, what="burst exit")
    done = now_state()
    assert done.follow_up == "" and done.follow_up_state == "" and done.export_progress == {}
    assert done.follow_up_crashes == 1 and done.follow_up_error == ""
    assert (done.summary["cards"], done.summary["images"]) == (CARDS, CARDS * PER_CARD)
    again = export_record(redis_conn, project_id)
    assert again is not None and again.id == record.id  # the same record throughout
    log = workers.log(1)
    assert (
        f"job {record.id}: its project_export lost its model server (1 of 2 allowed); queued again"
        in log
    )
    assert log.count(f"project {project_id}: exported, {CARDS} cards") == 1  # once
    assert "exported," not in workers.log(0)
    with zipfile.ZipFile(zip_path) as z:
        assert z.testzip() is None
        with z.open("camtrap-dp/media.csv") as fh:
            rows = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
        with z.open("camtrap-dp/deployments.csv") as fh:
            deployments = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
    assert len(rows) == CARDS * PER_CARD
    assert [d["deploymentID"] for d in deployments] == [f"Camera1 #{n}" for n in (1, 2, 3)]
