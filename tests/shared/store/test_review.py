"""Review on SQLite and PostgreSQL: each action's effect on the boxes and the image, undo back
to exactly what was there, version conflicts, refusals across jobs, bulk accept and its undo,
another threshold, and the uncertain-first order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shared.store.bulk_review import bulk_accept, undo_bulk
from shared.store.queries import MediaQuery, media_page
from shared.store.queries import one_media as find_media
from shared.store.review import Conflict, NotInJob, ReviewAction, ReviewRefused, apply
from shared.store.schema import detections
from shared.store.thresholds import apply_threshold, counts_at
from shared.store.writes import add_media, start_job
from tests.shared.store.test_results_store import job, record

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def one_media(engine, job_id: str, media_id: int) -> dict:
    """The file as the API shows it; the test expects it to exist."""
    found = find_media(engine, job_id, media_id)
    assert found is not None
    return found


def box(category: str, conf: float, x: float = 0.1) -> dict:
    return {"category": category, "conf": conf, "bbox": [x, 0.1, 0.2, 0.2]}


@pytest.fixture
def reviewed(store):
    """Job a (threshold 0.4): 0 animal 0.9 + person 0.45, 1 animal 0.35 (below), 2 nothing,
    3 unreadable; job b has one image."""
    start_job(store, job("job-a"))
    start_job(store, job("job-b"))
    add_media(
        store,
        "job-a",
        [
            record(0, "a/0.jpg", detections=[box("1", 0.9), box("2", 0.45, 0.5)]),
            record(1, "a/1.jpg", detections=[box("1", 0.35)]),
            record(2, "a/2.jpg", detections=[]),
            record(3, "a/3.jpg", detections=[], failure="not an image"),
        ],
        0.4,
        "m",
    )
    add_media(store, "job-b", [record(0, "b/0.jpg", detections=[box("1", 0.8)])], 0.4, "m")
    return store


def images(store, job_id: str = "job-a", **query) -> list[dict]:
    return media_page(store, job_id, MediaQuery(**query))["media"]


def act(store, action: str, **fields) -> dict:
    return apply(store, "job-a", ReviewAction(action, "Ana", **fields), NOW)


def test_reject_relabel_species_and_undo_leave_the_machine_untouched(reviewed) -> None:
    first = images(reviewed)[0]
    animal, person = first["detections"]
    act(reviewed, "reject", detection_id=person["id"], version=0)
    now = one_media(reviewed, "job-a", first["id"])
    assert now["review"] == "changed" and now["verified_outcome"] == "animal"
    assert [d["review"] for d in now["detections"]] == ["accepted", "rejected"]
    act(reviewed, "relabel", detection_id=animal["id"], category="vehicle", version=1)
    with pytest.raises(ReviewRefused, match="animal box"):
        act(reviewed, "species", detection_id=animal["id"], species="fox", version=2)
    back = act(reviewed, "relabel", detection_id=animal["id"], category="animal")
    act(reviewed, "species", detection_id=animal["id"], species="Red fox")
    now = one_media(reviewed, "job-a", first["id"])
    assert now["detections"][0]["species"] == "Red fox"
    assert now["detections"][0]["review"] == "accepted"
    # the machine's own values never change
    assert [(d["category"], d["confidence"]) for d in now["detections"]] == [
        ("animal", 0.9),
        ("person", 0.45),
    ]
    # undo the last two, in order; undoing an older one first is refused
    with pytest.raises(Conflict, match="undo their change first"):
        act(reviewed, "undo", review_id=back["review_id"])
    reviews_done = [r for r in _reviews(reviewed) if r.action != "undo"]
    act(reviewed, "undo", review_id=reviews_done[-1].id)
    act(reviewed, "undo", review_id=reviews_done[-2].id)
    assert (
        one_media(reviewed, "job-a", first["id"])["detections"][0]["verified_category"] == "vehicle"
    )


def _reviews(store) -> list:
    from shared.store.schema import reviews

    with store.connect() as conn:
        return conn.execute(select(reviews).order_by(reviews.c.id)).all()


def test_undo_everything_returns_the_image_to_unreviewed(reviewed) -> None:
    first = images(reviewed)[0]
    made = [
        act(reviewed, "reject", detection_id=first["detections"][1]["id"]),
        act(
            reviewed,
            "add",
            media_id=first["id"],
            category="animal",
            bbox=(0.6, 0.6, 0.2, 0.3),
            species="Deer",
        ),
    ]
    added = one_media(reviewed, "job-a", first["id"])["detections"][2]
    assert (added["source"], added["review"], added["species"]) == ("human", "added", "Deer")
    for done in reversed(made):
        act(reviewed, "undo", review_id=done["review_id"])
    now = one_media(reviewed, "job-a", first["id"])
    assert now["review"] == "" and now["verified_outcome"] is None and now["reviewer"] == ""
    assert [d["review"] for d in now["detections"]] == ["", ""]
    assert now["version"] == 4  # every change, undo included, is a new version


def test_accept_mark_empty_and_an_accepted_box_below_the_threshold(reviewed) -> None:
    zero, one, two, _ = images(reviewed)
    act(reviewed, "accept", media_id=zero["id"])
    assert one_media(reviewed, "job-a", zero["id"])["verified_outcome"] == "animal+person"
    act(reviewed, "accept", detection_id=one["detections"][0]["id"])  # a miss the AI nearly saw
    found = one_media(reviewed, "job-a", one["id"])
    assert (found["review"], found["verified_outcome"]) == ("accepted", "animal")
    act(reviewed, "empty", media_id=zero["id"])
    found = one_media(reviewed, "job-a", zero["id"])
    assert (found["review"], found["verified_outcome"]) == ("rejected", "empty")
    act(reviewed, "empty", media_id=two["id"])  # the AI said empty too
    assert one_media(reviewed, "job-a", two["id"])["review"] == "accepted"
    assert [m["path"] for m in images(reviewed, reviewed="no")] == ["a/3.jpg"]


def test_a_change_on_an_old_version_conflicts(reviewed) -> None:
    first = images(reviewed)[0]
    act(reviewed, "accept", media_id=first["id"], version=0)
    with pytest.raises(Conflict):
        act(reviewed, "reject", detection_id=first["detections"][0]["id"], version=0)
    assert one_media(reviewed, "job-a", first["id"])["detections"][0]["review"] == "accepted"


def test_another_jobs_box_image_or_review_is_refused(reviewed) -> None:
    other = images(reviewed, "job-b")[0]
    with pytest.raises(NotInJob):
        act(reviewed, "reject", detection_id=other["detections"][0]["id"])
    with pytest.raises(NotInJob):
        act(reviewed, "empty", media_id=other["id"])
    theirs = apply(reviewed, "job-b", ReviewAction("accept", "Bo", media_id=other["id"]), NOW)
    with pytest.raises(NotInJob):
        act(reviewed, "undo", review_id=theirs["review_id"])
    with pytest.raises(ReviewRefused, match="could not be read"):
        act(reviewed, "accept", media_id=images(reviewed)[3]["id"])
    assert one_media(reviewed, "job-b", other["id"])["review"] == "accepted"


@pytest.mark.parametrize(
    "bad",
    [
        {"action": "fly"},
        {"action": "reject"},
        {"action": "add", "media_id": 1},
        {"action": "add", "media_id": 1, "category": "animal", "bbox": (0.9, 0.1, 0.3, 0.1)},
        {"action": "relabel", "detection_id": 1, "category": "cat"},
    ],
)
def test_malformed_actions_are_refused(bad: dict) -> None:
    with pytest.raises(ReviewRefused):
        ReviewAction(reviewer="Ana", **bad).check()
    with pytest.raises(ReviewRefused, match="reviewer"):
        ReviewAction("accept", " ", media_id=1).check()


def test_bulk_accept_takes_the_filter_and_undoes_as_one(reviewed) -> None:
    zero = images(reviewed)[0]
    act(reviewed, "reject", detection_id=zero["detections"][1]["id"])
    done = bulk_accept(reviewed, "job-a", MediaQuery(category="animal", min_conf=0.3), "Bo", NOW)
    assert done["images"] == 1  # image 0 was reviewed already; 3 is unreadable
    one = images(reviewed)[1]
    assert (one["review"], one["verified_outcome"], one["reviewer"]) == ("accepted", "empty", "Bo")
    # a later change on image 1 keeps it out of the undo
    act(reviewed, "accept", detection_id=one["detections"][0]["id"])
    assert undo_bulk(reviewed, "job-a", done["batch"], "Bo", NOW) == {
        "batch": done["batch"],
        "undone": 0,
        "kept": 1,
    }
    again = bulk_accept(reviewed, "job-a", MediaQuery(outcome="empty"), "Bo", NOW)
    assert again["images"] == 1  # image 2
    assert undo_bulk(reviewed, "job-a", again["batch"], "Bo", NOW)["undone"] == 1
    assert images(reviewed)[2]["review"] == ""
    with pytest.raises(NotInJob):
        undo_bulk(reviewed, "job-a", again["batch"], "Bo", NOW)


def test_another_threshold_counts_and_becomes_the_jobs(reviewed) -> None:
    assert counts_at(reviewed, "job-a", 0.4)["outcomes"] == {
        "animal": 1,
        "person": 1,
        "vehicle": 0,
        "empty": 2,
        "error": 1,
    }
    low = counts_at(reviewed, "job-a", 0.3)
    assert low["outcomes"]["animal"] == 2 and low["detections"]["animal"] == 2
    apply_threshold(reviewed, "job-a", 0.3)
    found = images(reviewed)
    assert [m["outcome"] for m in found] == ["animal+person", "animal", "empty", "error"]
    assert [m["counts"]["animal"] for m in found] == [1, 1, 0, 0]
    assert found[1]["doubt"] == pytest.approx(0.05) and found[3]["doubt"] is None
    assert images(reviewed, outcome="animal", order="uncertain")[0]["path"] == "a/1.jpg"


def test_most_uncertain_first_is_nearest_the_threshold(reviewed) -> None:
    order = [m["path"] for m in images(reviewed, order="uncertain")]
    # doubts at 0.4: 0 -> |0.45-0.4| = 0.05, 1 -> 0.05, 2 -> 0.4 (nothing found), 3 unreadable
    assert order == ["a/0.jpg", "a/1.jpg", "a/2.jpg", "a/3.jpg"]
    with reviewed.connect() as conn:
        assert conn.execute(select(detections.c.verdict)).scalars().all() == [None] * 4
