"""A video in the results store, on each database: its facts come back as written, and its
counts are the most boxes seen in one frame — when stored, at another threshold (the slider)
and when another threshold is made the job's."""

from __future__ import annotations

from sqlalchemy import select

from shared.store.reads import iter_media
from shared.store.records import MediaRecord
from shared.store.schema import media
from shared.store.thresholds import apply_threshold, counts_at
from shared.store.writes import add_media, start_job
from tests.shared.store.test_results_store import job

VIDEO = {
    "codec": "h264",
    "frame_rate": 5.0,
    "duration": 6.0,
    "interval": 1.0,
    "expected_frames": 30,
    "frames_processed": [0, 5, 10],
    "frame_times": [0.0, 1.0, 2.0],
    "best_frame": 5,
    "clip": "",
}


def box(category: str, conf: float, frame: int | None) -> dict:
    return {"category": category, "conf": conf, "bbox": [0.1, 0.1, 0.2, 0.2], "frame": frame}


def stored(store) -> None:
    start_job(store, job())
    video = MediaRecord(
        file="cam/visit.mp4",
        kind="video",
        ordinal=0,
        width=160,
        height=120,
        video=VIDEO,
        detections=[
            box("1", 0.9, 0),  # one deer in frame 0,
            box("1", 0.9, 5),
            box("1", 0.6, 5),  # two in frame 5
            box("1", 0.95, 10),  # one in frame 10
            box("2", 0.3, 10),
        ],
    )  # a person below 0.4
    photo = MediaRecord(
        file="cam/IMG_1.JPG",
        ordinal=1,
        width=160,
        height=120,
        detections=[box("1", 0.9, None), box("1", 0.5, None)],
    )
    add_media(store, "job-a", [video, photo], 0.4, "test model")


def counts(store) -> dict[str, tuple[int, int, str]]:
    with store.connect() as conn:
        rows = conn.execute(
            select(media.c.path, media.c.animals, media.c.persons, media.c.outcome)
        ).all()
    return {r.path: (r.animals, r.persons, r.outcome) for r in rows}


def test_a_video_counts_its_most_crowded_frame(store) -> None:
    stored(store)
    assert counts(store) == {"cam/visit.mp4": (2, 0, "animal"), "cam/IMG_1.JPG": (2, 0, "animal")}
    back = {r.file: r for r in iter_media(store, "job-a")}
    assert back["cam/visit.mp4"].video == VIDEO and back["cam/visit.mp4"].kind == "video"
    assert [d["frame"] for d in back["cam/visit.mp4"].detections] == [0, 5, 5, 10, 10]
    assert back["cam/IMG_1.JPG"].video is None

    at = counts_at(store, "job-a", 0.7)  # frame 5 keeps one box: the video counts 1
    assert at["detections"]["animal"] == 1 + 1
    at = counts_at(store, "job-a", 0.25)
    assert at["detections"] == {"animal": 2 + 2, "person": 1, "vehicle": 0}
    assert at["outcomes"]["person"] == 1

    apply_threshold(store, "job-a", 0.25)
    assert counts(store) == {
        "cam/visit.mp4": (2, 1, "animal+person"),
        "cam/IMG_1.JPG": (2, 0, "animal"),
    }
    apply_threshold(store, "job-a", 0.92)
    assert counts(store) == {"cam/visit.mp4": (1, 0, "animal"), "cam/IMG_1.JPG": (0, 0, "empty")}
