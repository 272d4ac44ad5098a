"""Issue 33, item 7: a truth file larger than `truth_inline_bytes` is not read in the web
request. It is stored and compared by a model server as an EVALUATE follow-up of the job (real
RQ worker, SQLite and PostgreSQL); the API answers 202 until the report is written, then the
same figures the request would have given; the page says it is waiting and then shows them.
The stored truth files go once compared, and the report goes with the job's results."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from shared.storage import Storage
from tests.web.helpers import SCRIPT, csrf_token
from tests.web.test_accuracy_and_insights import survey

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
# the inline test's truth, and rows for files no result has, to pass the inline limit of 512
TRUTH = b"file,category\ncam1/a.jpg,Red fox\nb.jpg,empty\nelsewhere/z.jpg,animal\n" + b"".join(
    f"gone/{i:03d}.jpg,empty\n".encode() for i in range(40)
)


@pytest.fixture
def settings(settings):
    return replace(settings, truth_inline_bytes=512)


def send(client, job_id: str, data: bytes, name: str = "truth.csv"):
    return client.post(
        f"/api/jobs/{job_id}/evaluation",
        headers=SCRIPT,
        data={"truth": (io.BytesIO(data), name), "recall": "0.5"},
        content_type="multipart/form-data",
    )


@BOTH
def test_a_large_truth_file_is_compared_on_a_model_server(client, run_worker, settings) -> None:
    assert len(TRUTH) > settings.truth_inline_bytes
    job_id = survey(client, run_worker)
    response = send(client, job_id, TRUTH)
    assert response.status_code == 202, response.get_json()
    where = response.get_json()["report_url"]
    assert response.headers["Location"] == where
    assert where.endswith(f"/api/jobs/{job_id}/evaluation/truth")
    waiting = client.get(where)
    assert (waiting.status_code, waiting.get_json()) == (202, {"status": "queued"})
    job = client.get(f"/api/jobs/{job_id}").get_json()
    assert job["export"]["kind"] == "evaluate"
    again = send(client, job_id, TRUTH)  # one follow-up at a time on a job
    assert again.status_code == 409, again.get_json()
    folder = Storage(settings.data_dir).truth_dir(job_id)
    assert [p.name for p in folder.iterdir()] == [next(folder.iterdir()).name]  # one request

    run_worker()
    done = client.get(where)
    assert done.status_code == 200, done.get_json()
    report = done.get_json()
    assert report["source"] == "truth" and report["truth"]["uploaded"] == ["truth.csv"]
    assert report["images"] == 2 and report["truth"]["format"].startswith("CSV")
    animal = next(r for r in report["categories"] if r["category"] == "animal")
    assert [animal[k] for k in ("true_positives", "false_positives", "misses")] == [1, 1, 0]
    assert report["unpaired"]["truth_without_result"]["count"] == 41
    assert report["options"]["recall"] == 0.5 and report["recall_target"]["sentence"]
    assert [p.name for p in folder.iterdir()] == ["report.json"]  # the truth files went
    assert client.get(f"/api/jobs/{job_id}").get_json()["export"] is None


def test_an_unreadable_large_truth_file_says_why(client, run_worker) -> None:
    job_id = survey(client, run_worker)
    missing = client.get(f"/api/jobs/{job_id}/evaluation/truth")
    assert missing.status_code == 404
    response = send(client, job_id, b'{"images": [' + b" " * 600 + b"]}", "truth.json")
    assert response.status_code == 202
    run_worker()
    told = client.get(f"/api/jobs/{job_id}/evaluation/truth")
    assert told.status_code == 422
    assert "truth.json is not a COCO Camera Traps file" in told.get_json()["error"]


def test_the_accuracy_page_waits_for_the_model_server(client, run_worker) -> None:
    job_id = survey(client, run_worker)
    posted = client.post(
        f"/jobs/{job_id}/accuracy",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(client),
            "threshold": "0.4",
            "category": "animal",
            "truth": (io.BytesIO(TRUTH), "truth.csv"),
        },
    )
    assert posted.status_code == 303 and posted.headers["Location"].endswith("/accuracy")
    page = client.get(f"/jobs/{job_id}/accuracy").get_data(as_text=True)
    assert 'id="truth-waiting"' in page and 'http-equiv="refresh"' in page
    assert 'id="truth-categories"' not in page
    run_worker()
    page = client.get(f"/jobs/{job_id}/accuracy").get_data(as_text=True)
    assert 'id="truth-waiting"' not in page and 'http-equiv="refresh"' not in page
    assert 'id="truth-categories"' in page
    assert "compared on a model server at threshold 0.4 (truth.csv)" in page
