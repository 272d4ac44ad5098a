"""A model server killed (kill -9) while learning from a zip of class examples (issue 33,
item 10): the upload does not stay "running" for good. Its lease lapses, the next server's
sweep queues it again, and it is learned from once: every example added exactly once. Real
processes: model servers running MegadetectorLite and the YOLOX-Nano embedder, real RQ, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from model_server.service.class_upload_recovery import LEASE_PREFIX
from shared.store import open_configured_store
from shared.store.class_sets import get_upload
from shared.store.schema import class_examples
from tests.conftest import MODELS, open_site
from tests.processes import Workers, wait_for
from tests.web.test_species_service import TEACH, examples_zip, json_post

pytestmark = pytest.mark.slow
LEASE = "2"  # seconds: a dead server's lease lapses soon


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_a_server_killed_while_learning_examples_is_recovered_once(
    settings, redis_conn, megadetector_lite: Path, tmp_path: Path
) -> None:
    mine = replace(
        settings,
        model_path=megadetector_lite,
        detection_threshold=0.25,
        species_embedder=MODELS / "yolox_nano.onnx",
    )
    client = open_site(mine).test_client()
    with json_post(client, "/api/class-sets", {"name": "ena24"}) as created:
        assert created.status_code == 201, created.get_json()
    with client.post(
        "/api/class-sets/ena24/examples",
        headers={"X-API-Key": ""},
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(examples_zip(TEACH)), "teach.zip")},
    ) as sent:
        assert sent.status_code == 202, sent.get_json()
        upload_id = sent.get_json()["upload"]

    workers = Workers(mine, tmp_path)
    engine = open_configured_store(mine)
    try:
        first = workers.start(TRAPLINE_LEASE_SECONDS=LEASE)

        def status() -> str:
            found = get_upload(engine, upload_id)
            assert found is not None
            return found.status

        wait_for(lambda: status() == "running", timeout=120, what="the upload running")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert status() == "running"  # killed while learning: nothing finished it
        wait_for(
            lambda: not redis_conn.exists(LEASE_PREFIX + str(upload_id)),
            timeout=10,
            what="the dead server's lease lapsing",
        )
        second = workers.start("--burst", TRAPLINE_LEASE_SECONDS=LEASE)
        assert second.wait(timeout=300) == 0, workers.log(1)[-3000:]
        assert (
            f"class upload {upload_id}: its model server stopped answering (1 of 2 allowed); "
            "queued again" in workers.log(1)
        )
        done = get_upload(engine, upload_id)
        assert done is not None and (done.status, done.added) == ("done", 8), done
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(class_examples)).scalar()
        assert stored == 8  # learned once, not once per attempt
    finally:
        workers.stop_all()
        engine.dispose()
