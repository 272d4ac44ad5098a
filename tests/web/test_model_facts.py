"""Every page says what the model can see (issue 27, item 7): the header's sentence follows the
models the live servers announce in their heartbeats; a job run by the one-class default
(MegadetectorLite, really run here) names its model, classes and threshold on its page, says
people and vehicles are not detected instead of counting 0 of them, and its Accuracy page says
why their rows are empty. The page's counts say "photo"/"photos" and name videos apart."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from shared.model_facts import ModelFacts, spoken
from shared.model_servers import beat, leave
from tests.conftest import DATA
from tests.web.helpers import SCRIPT, form
from web.wording import plural, progress_text, summary_text

LITE = "MegadetectorLite (zamba, YOLOX-tiny 640, distilled from MegaDetector)"


@pytest.fixture
def settings(settings, megadetector_lite: Path):
    return replace(settings, model_path=megadetector_lite, detection_threshold=0.25)


def test_the_header_follows_the_live_models(client, redis_conn) -> None:
    def tagline() -> str:
        page = client.get("/").get_data(as_text=True)
        return page.split('id="tagline">', 1)[1].split("<", 1)[0]

    assert tagline() == "detects wildlife in camera-trap photos and videos"  # none is live
    beat(redis_conn, "box-1", LITE, facts=ModelFacts(LITE, ("animal",), 0.25))
    assert tagline() == "finds animals in camera-trap photos and videos"
    page = " ".join(client.get("/").get_data(as_text=True).split())
    assert f"Model: {LITE} · finds animals in camera-trap photos and videos" in page
    assert "People and vehicles are not detected by this model" in page
    assert "boxes at or above 0.25 count" in page
    beat(redis_conn, "box-2", "MegaDetector v5a", facts=ModelFacts("MegaDetector v5a"))
    assert tagline() == "finds animals, people and vehicles in camera-trap photos and videos"
    leave(redis_conn, "box-1")
    leave(redis_conn, "box-2")
    # a server of an older release announced its model's name alone: all three classes
    beat(redis_conn, "box-3", "MegaDetector v4.1.0")
    redis_conn.hdel("trapline:model-server-facts", "box-3")
    assert tagline() == "finds animals, people and vehicles in camera-trap photos and videos"
    leave(redis_conn, "box-3")


def test_a_one_class_models_job_says_what_it_cannot_see(client, run_worker) -> None:
    heron = min((DATA / "camtrap-dp" / "example" / "media").glob("*.JPG"))
    data = {**form(files=[(heron.read_bytes(), "heron.jpg")])}
    with client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=SCRIPT
    ) as response:
        assert response.status_code == 201, response.get_json()
        job_id = response.get_json()["id"]
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["status"] == "finished"
    assert status["model_facts"]["classes"] == ["animal"]
    assert status["model_line"] == (
        f"Model: {LITE} · finds animals · boxes at or above 0.25 count · "
        "people and vehicles are not detected by this model"
    )
    assert status["progress_text"] == "1 of 1 photo"
    assert "with people" not in status["summary_text"]
    assert status["summary_text"].startswith("1 photo: ")
    assert status["summary_text"].endswith("(People and vehicles are not detected by this model.)")
    page = " ".join(client.get(f"/jobs/{job_id}").get_data(as_text=True).split())
    assert status["model_line"] in page and status["summary_text"] in page
    summary = client.get(f"/api/jobs/{job_id}/summary").get_json()
    assert summary["model_facts"]["not_detected"] == (
        "people and vehicles are not detected by this model"
    )
    accuracy = client.get(f"/jobs/{job_id}/accuracy").get_data(as_text=True)
    assert 'id="empty-rows-why"' in accuracy
    assert "People and vehicles are not detected by this model, so their rows" in " ".join(
        accuracy.split()
    )


def test_words_for_counts() -> None:
    assert plural(1, "file") == "1 file" and plural(0, "photo") == "0 photos"
    assert plural(1204, "video") == "1,204 videos"
    assert progress_text(3, 47, 5) == "3 of 47 files (42 photos, 5 videos)"
    assert progress_text(0, 1, 0) == "0 of 1 photo"
    assert spoken(("animal", "vehicle")) == "animals and vehicles"
    facts = ModelFacts.of_categories("md", ["1", "2"], 0.2)
    assert facts.not_detected() == "vehicles are not detected by this model"
    assert ModelFacts.loads("not json", "old").classes == ("animal", "person", "vehicle")
    assert ModelFacts.loads(facts.dumps()) == facts


def test_the_summary_line_of_a_job_with_videos() -> None:
    three = ModelFacts("md")
    line = summary_text({"images": 47, "videos": 5, "animal": 2, "person": 1}, three)
    assert line.startswith("42 photos and 5 videos: 2 with animals, 1 with people, 0 with")
    assert summary_text({"images": 1, "videos": 1}, three).startswith("1 video: ")


def test_class_sets_say_up_front_when_no_embedder_is_installed(client, redis_conn) -> None:
    """Issue 28, item 11 (in part): the page and the teaching API say so before a zip is taken
    in, not after a model server tried it; with no server live the zip waits, as uploads do."""
    from tests.web.helpers import SCRIPT, zip_of

    created = client.post("/api/class-sets", json={"name": "birds"}, headers=SCRIPT)
    assert created.status_code in (200, 201), created.get_json()

    def teach() -> int:
        data = {"file": (io.BytesIO(zip_of({"heron/a.jpg": b"x"})), "ex.zip"), "species": "heron"}
        response = client.post(
            "/api/class-sets/birds/examples",
            data=data,
            content_type="multipart/form-data",
            headers=SCRIPT,
        )
        return response.status_code

    beat(redis_conn, "box-1", LITE, facts=ModelFacts(LITE, ("animal",), 0.25, embedder=""))
    page = client.get("/classes").get_data(as_text=True)
    assert 'id="embedder-missing"' in page and "No species embedder is installed" in page
    assert teach() == 409
    beat(redis_conn, "box-1", LITE, facts=ModelFacts(LITE, ("animal",), 0.25, "yolox_nano.onnx"))
    assert 'id="embedder-missing"' not in client.get("/classes").get_data(as_text=True)
    assert teach() == 202
    leave(redis_conn, "box-1")
