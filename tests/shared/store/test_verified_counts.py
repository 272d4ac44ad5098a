"""What a reviewer counted is kept beside the machine's counts on each media row, through every
review path (one action, its undo, a bulk accept and its undo, a video's frames), so the job's
and the project's summaries count the review where there is one; a finished card's kept counts
corrected by its reviewed files give what grouping its files gives; migration 0011 fills the
counts in for files reviewed before it, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, update

from shared.store.bulk_review import bulk_accept, undo_bulk
from shared.store.engine import make_engine
from shared.store.migrate import alembic_config
from shared.store.project_queries import project_summary
from shared.store.queries import MediaQuery, one_media, summary
from shared.store.records import MediaRecord
from shared.store.review import ReviewAction, apply
from shared.store.schema import detections, media
from shared.store.schema import jobs as jobs_table
from shared.store.writes import JobRow, add_media, finish_job, start_job
from tests.shared.store.test_project_pages import NOW, a_project

JOB = "V" * 32
COUNTS = (media.c.verified_animals, media.c.verified_persons, media.c.verified_vehicles)


def two_deer_and_a_video(store) -> dict[str, int]:
    start_job(store, JobRow(JOB, NOW, "test", 0.3, 0.3, 0.01))
    deer = [{"category": "1", "conf": 0.9, "bbox": [0.1 * i, 0, 0.1, 0.1]} for i in range(2)]
    # a video: one deer in frame 0, two in frame 5: it counts two
    frames = [
        {"category": "1", "conf": 0.8, "bbox": [0.1 * i, 0.5, 0.1, 0.1], "frame": f}
        for f, i in ((0, 0), (5, 0), (5, 1))
    ]
    video = {"frames_processed": [0, 5], "frame_times": [0.0, 1.0]}
    add_media(
        store,
        JOB,
        [
            MediaRecord("cam/deer.jpg", deer, ordinal=0),
            MediaRecord("cam/empty.jpg", [], ordinal=1),
            MediaRecord("cam/visit.mp4", frames, ordinal=2, kind="video", video=video),
        ],
        0.3,
        "test",
    )
    finish_job(store, JOB, NOW, images=3, failures=0, counts={})
    with store.connect() as conn:
        return dict(conn.execute(select(media.c.path, media.c.id)).all())


def figures_of(store) -> dict:
    found = summary(store, JOB)
    assert found is not None
    return found


def verified(store, media_id: int) -> tuple:
    with store.connect() as conn:
        return tuple(conn.execute(select(*COUNTS).where(media.c.id == media_id)).one())


def test_each_review_path_keeps_what_the_reviewer_counted(store) -> None:
    ids = two_deer_and_a_video(store)
    deer, empty, visit = ids["cam/deer.jpg"], ids["cam/empty.jpg"], ids["cam/visit.mp4"]
    assert verified(store, deer) == (None, None, None)
    box = apply(store, JOB, ReviewAction("accept", "ana", media_id=deer), NOW)
    assert verified(store, deer) == (2, 0, 0)
    assert figures_of(store)["folders"][0]["reviewed"] == 1
    # relabel one deer as a person: one animal, one person
    boxes = (one_media(store, JOB, deer) or {})["detections"]
    apply(
        store,
        JOB,
        ReviewAction("relabel", "ana", detection_id=boxes[0]["id"], category="person"),
        NOW,
    )
    assert verified(store, deer) == (1, 1, 0)
    figures = figures_of(store)
    assert figures["outcomes"]["person"] == 1 and figures["basis"] == "mixed"
    assert figures["categories"]["animal"]["detections"] == 1 + 2  # the video keeps its two
    # undo gives back the state before: accepted, two deer
    last = apply(store, JOB, ReviewAction("undo", "ana", review_id=box["review_id"] + 1), NOW)
    assert last["media_id"] == deer and verified(store, deer) == (2, 0, 0)
    apply(store, JOB, ReviewAction("undo", "ana", review_id=box["review_id"]), NOW)
    assert verified(store, deer) == (None, None, None)
    # the video: marked empty counts nothing; its boxes' frames are counted as the machine does
    apply(store, JOB, ReviewAction("accept", "ana", media_id=visit), NOW)
    assert verified(store, visit) == (2, 0, 0)
    apply(store, JOB, ReviewAction("empty", "ana", media_id=visit), NOW)
    assert verified(store, visit) == (0, 0, 0)
    assert figures_of(store)["outcomes"]["empty"] == 2
    # a bulk accept counts as the machine did, and its undo forgets it
    batch = bulk_accept(store, JOB, MediaQuery(), "bo", NOW)
    assert batch["images"] == 2  # the deer and the empty photo; the video was reviewed
    assert verified(store, deer) == (2, 0, 0) and verified(store, empty) == (0, 0, 0)
    assert figures_of(store)["basis"] == "reviewed"
    undo_bulk(store, JOB, batch["batch"], "bo", NOW)
    assert verified(store, deer) == (None, None, None)
    assert figures_of(store)["reviewed"]["images"] == 1


def test_a_projects_kept_counts_follow_its_reviews(store) -> None:
    _, jobs = a_project(store)
    with store.connect() as conn:
        rows = conn.execute(
            select(media.c.id, media.c.job_id, media.c.outcome).where(media.c.failure.is_(None))
        ).all()
    animal = next(r for r in rows if r.outcome == "animal" and r.job_id == jobs[0])
    blank = next(r for r in rows if r.outcome == "empty" and r.job_id == jobs[1])
    apply(store, jobs[0], ReviewAction("empty", "ana", media_id=animal.id), NOW)
    apply(
        store,
        jobs[1],
        ReviewAction("add", "ana", media_id=blank.id, category="vehicle", bbox=(0, 0, 0.5, 0.5)),
        NOW,
    )
    bulk_accept(store, jobs[2], MediaQuery(), "bo", NOW)
    kept = project_summary(store, jobs)
    with store.begin() as conn:  # forget what the cards keep: grouped from their files
        conn.execute(update(jobs_table).values(counts={}))
    assert project_summary(store, jobs) == kept
    assert kept["outcomes"]["vehicle"] == 1 and kept["basis"] == "mixed"
    reviewed = {j["job"]: j["reviewed"] for j in kept["jobs"]}
    assert reviewed[jobs[0]] == 1 and reviewed[jobs[1]] == 1 and reviewed[jobs[2]] == 7


def test_migration_0011_counts_what_was_reviewed_before_it(database_url: str) -> None:
    """Stored and reviewed as a release at 0010 did (no verified counts), then upgraded."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0010")
        old_media = media.c.id, media.c.path, media.c.review
        start_job(engine, JobRow(JOB, NOW, "test", 0.3, 0.3, 0.01))
        for path, boxes in (("cam/deer.jpg", 2), ("cam/empty.jpg", 1), ("cam/left.jpg", 1)):
            dets = [
                {"category": "1", "conf": 0.9, "bbox": [0.1 * i, 0, 0.1, 0.1]} for i in range(boxes)
            ]
            add_media(engine, JOB, [MediaRecord(path, dets)], 0.3, "test")
        with engine.begin() as conn:
            ids = {p: i for i, p, _ in conn.execute(select(*old_media)).all()}
            for path, verdict in (("cam/deer.jpg", "accepted"), ("cam/empty.jpg", "rejected")):
                conn.execute(update(media).where(media.c.id == ids[path]).values(review="changed"))
                conn.execute(
                    update(detections)
                    .where(detections.c.media_id == ids[path])
                    .values(verdict=verdict, verified_category="1")
                )
            command.upgrade(alembic_config(conn), "0011")
        assert verified(engine, ids["cam/deer.jpg"]) == (2, 0, 0)
        assert verified(engine, ids["cam/empty.jpg"]) == (0, 0, 0)
        assert verified(engine, ids["cam/left.jpg"]) == (None, None, None)
    finally:
        engine.dispose()
