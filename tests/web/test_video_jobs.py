"""Videos through the service, on SQLite and on PostgreSQL: uploaded through the API with a frame
interval and clips, processed by a real RQ worker, read back as pages of media with their
checked frames (filmstrip thumbnails served), reviewed frame by frame, exported again."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import cast

import pytest
from PIL import Image
from rq.job import Job
from rq.serializers import JSONSerializer

from shared.store import open_configured_store
from shared.store.reads import job_row
from tests.conftest import DATA
from tests.processes import state_of
from tests.videos import red_patch_clip
from tests.web.helpers import SCRIPT, form, photo
from tests.web.test_review_api import act, media, read_zip, sheet

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
ASF = DATA / "videos" / "zamba" / "PICT0021.ASF"


def video_job(client, run_worker, tmp_path: Path, **fields: str) -> str:
    clip = red_patch_clip(tmp_path / "visit.mp4", seconds=6, fps=5, patch_frames=range(10, 21))
    data = form(
        files=[
            (clip.read_bytes(), "visit.mp4"),
            (ASF.read_bytes(), "PICT0021.ASF"),
            (photo(1), "still.jpg"),
        ]
    )
    response = client.post(
        "/api/jobs", data={**data, **fields}, content_type="multipart/form-data", headers=SCRIPT
    )
    assert response.status_code == 201, response.get_json()
    run_worker()
    job_id = response.get_json()["id"]
    assert client.get(f"/api/jobs/{job_id}").get_json()["status"] == "finished"
    return job_id


@BOTH
def test_a_video_job_from_upload_to_filmstrip(client, run_worker, settings, tmp_path) -> None:
    job_id = video_job(client, run_worker, tmp_path, frame_interval="2", video_clips="on")
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["summary"]["images"] == 3 and status["summary"]["videos"] == 2
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "1 photo and 2 videos: 2 with animals" in " ".join(page.split())
    found = media(client, job_id)
    visit = found["visit.mp4"]
    assert visit["kind"] == "video" and visit["outcome"] == "animal+person"
    video = visit["video"]
    assert [f["number"] for f in video["frames"]] == [0, 10, 20, 29]  # every 2 s at 5 fps
    assert [f["time"] for f in video["frames"]] == [0.0, 2.0, 4.0, 5.8]
    assert video["best_frame"] == 10
    assert (video["frame_rate"], video["duration"]) == (5.0, 6.0)
    assert {d["frame"] for d in visit["detections"]} == {0, 10, 20, 29}
    for frame in [*video["frames"], {"thumbnail_url": visit["thumbnail_url"], "number": 10}]:
        with client.get(frame["thumbnail_url"]) as response:
            assert response.status_code == 200 and response.mimetype == "image/jpeg"
            with Image.open(io.BytesIO(response.data)) as thumb:
                red = cast(tuple[int, int, int], thumb.convert("RGB").getpixel((65, 55)))
        # the patch is in frames 10-20 only: the filmstrip shows what was checked, and the
        # tile the best frame (10)
        assert (red[0] > 200 and red[1] < 80) == (frame["number"] in (10, 20)), frame
    asf = found["PICT0021.ASF"]["video"]
    assert [f["number"] for f in asf["frames"]] == [*range(0, 61, 2)]
    assert found["still.jpg"]["video"] is None and found["still.jpg"]["kind"] == "image"

    engine = open_configured_store(settings)
    try:
        row = job_row(engine, job_id)
        assert row is not None and row.options["frame_interval"] == 2.0
    finally:
        engine.dispose()
    archive = read_zip(client, job_id)
    assert {
        "visit.mp4.best.jpg",
        "visit.mp4.boxes.mp4",
        "PICT0021.ASF.best.jpg",
        "still.jpg",
    } <= set(archive.namelist())
    entry = {e["file"]: e for e in json.loads(archive.read("detections.json"))["images"]}
    assert entry["visit.mp4"]["frames_processed"] == [0, 10, 20, 29]
    clip = archive.read("visit.mp4.boxes.mp4")
    # made again from the store (after review, say): the clip comes along unchanged
    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=SCRIPT).status_code == 202
    run_worker()
    again = read_zip(client, job_id)
    assert again.read("visit.mp4.boxes.mp4") == clip
    assert again.read("visit.mp4.best.jpg") == archive.read("visit.mp4.best.jpg")


def test_drawing_a_box_on_a_frame_and_the_export_after(client, run_worker, tmp_path) -> None:
    job_id = video_job(client, run_worker, tmp_path)
    visit = media(client, job_id)["visit.mp4"]
    assert [f["number"] for f in visit["video"]["frames"]] == [0, 5, 10, 15, 20, 25, 29]
    code, body = act(
        client,
        job_id,
        action="add",
        media_id=visit["id"],
        category="animal",
        bbox=[0.1, 0.1, 0.2, 0.2],
        frame=7,
    )
    assert code == 400 and "checked frames" in body["error"]
    code, body = act(
        client,
        job_id,
        action="add",
        media_id=visit["id"],
        category="animal",
        bbox=[0.1, 0.1, 0.2, 0.2],
        frame=25,
        species="Mongoose",
    )
    assert code == 201
    drawn = body["media"]["detections"][-1]
    assert (drawn["source"], drawn["frame"]) == ("human", 25)
    assert client.post(f"/api/jobs/{job_id}/exports", json={}, headers=SCRIPT).status_code == 202
    run_worker()
    after = read_zip(client, job_id)
    entry = {e["file"]: e for e in json.loads(after.read("detections.json"))["images"]}
    human = [d for d in entry["visit.mp4"]["detections"] if d.get("source") == "human"]
    assert human == [
        {
            "category": "1",
            "conf": 1.0,
            "bbox": [0.1, 0.1, 0.2, 0.2],
            "source": "human",
            "verified": True,
            "species": "Mongoose",
            "frame_number": 25,
        }
    ]
    rows = [r for r in sheet(after, "Detections") if r["source"] == "human"]
    assert rows[0]["frame"] == 25 and rows[0]["file"] == "visit.mp4"
    assert "visit.mp4.best.jpg" in after.namelist()
    assert not any(n.endswith(".boxes.mp4") for n in after.namelist())  # none asked for


@pytest.mark.parametrize("value", ["abc", "0", "-1", "7200"])
def test_a_bad_frame_interval_is_refused(client, value: str) -> None:
    response = client.post(
        "/api/jobs",
        data={**form(files=[(photo(), "a.jpg")]), "frame_interval": value},
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 400 and "frame interval" in response.get_json()["error"]


def test_the_page_takes_videos(client) -> None:
    page = client.get("/").get_data(as_text=True)
    for suffix in (".mp4", ".avi", ".mov", ".mkv", ".asf", ".wmv", ".m4v", ".zip", ".jpg"):
        assert suffix in page.split('data-accepted="')[1].split('"')[0]
    assert 'name="frame_interval"' in page and 'name="video_clips"' in page


def test_videos_get_their_own_time_allowance(client, redis_conn, tmp_path) -> None:
    clip = red_patch_clip(tmp_path / "visit.mp4", seconds=2, fps=5, patch_frames=range(0))
    response = client.post(
        "/api/jobs",
        data=form(
            files=[
                (clip.read_bytes(), "visit.mp4"),
                (ASF.read_bytes(), "PICT0021.ASF"),
                (photo(1), "still.jpg"),
            ]
        ),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    state = state_of(redis_conn, response.get_json()["id"])
    assert (state.total, state.videos) == (3, 2)
    queued = Job.fetch(state.rq_id, connection=redis_conn, serializer=JSONSerializer)
    # 10 minutes, a minute for the photo, 600 frames at 5 s for each video
    assert queued.timeout == 600 + 60 + 2 * 600 * 5
