"""What a monitor points at (issue 28, item 12), with a real Redis and a real worker: /healthz
says "degraded" while no model server runs, /readyz answers 503 then and when a job has waited
too long (the site's pinned clock decides), and /metrics is Prometheus text that its own parser
reads, with the queue, the live servers and the counters a finished job added."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.contract import JobState, JobStatus, create_state
from shared.model_servers import beat, leave
from shared.storage import new_job_id
from tests.conftest import pinned_clock
from tests.web.helpers import SCRIPT, form, photo


@pytest.fixture
def settings(settings):
    return replace(settings, ready_max_wait_seconds=600.0)


def samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_readiness_and_health(client, redis_conn) -> None:
    assert client.get("/healthz").get_json()["status"] == "degraded"
    said = client.get("/readyz")
    assert said.status_code == 503 and "No model server" in said.get_json()["reason"]
    beat(redis_conn, "box-1", "MegaDetector v5a")
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/readyz").get_json() == {
        "status": "ready",
        "model_servers": 1,
        "waited_seconds": 0,
    }
    # a job queued 20 minutes ago by the site's clock, with a limit of 10
    create_state(
        redis_conn,
        JobState(id=new_job_id(), status=JobStatus.QUEUED, created_at=pinned_clock() - 1200),
    )
    late = client.get("/readyz")
    assert late.status_code == 503 and late.get_json()["waited_seconds"] == 1200
    assert "waited 1200 s" in late.get_json()["reason"]
    leave(redis_conn, "box-1")


def test_metrics_for_prometheus(client, redis_conn, run_worker) -> None:
    before = samples(client)
    assert before[("trapline_redis_up", ())] == 1
    assert before[("trapline_queue_jobs", ())] == 0
    files = [(photo(0), "a.jpg"), (b"not a photo", "b.jpg")]
    created = client.post(
        "/api/jobs", data=form(files=files), content_type="multipart/form-data", headers=SCRIPT
    )
    assert created.status_code == 201
    queued = samples(client)
    assert queued[("trapline_queue_jobs", ())] == 1
    assert queued[("trapline_files_waiting", ())] == 2
    beat(redis_conn, "box-1", "test model")
    run_worker()
    after = samples(client)
    model = client.get(f"/api/jobs/{created.get_json()['id']}").get_json()["model"]
    labels = (("model", model),)
    assert after[("trapline_images_processed_total", labels)] == 2
    assert after[("trapline_images_failed_total", labels)] == 1
    assert after[("trapline_jobs_finished_total", labels)] == 1
    assert after[("trapline_model_server_up", (("model", "test model"), ("server", "box-1")))] == 1
    assert after[("trapline_model_servers", (("model", "test model"),))] == 1
    assert after[("trapline_queue_jobs", ())] == 0 and after[("trapline_jobs_unfinished", ())] == 0
    assert after[("trapline_recent_images_per_second", ())] > 0
    leave(redis_conn, "box-1")
