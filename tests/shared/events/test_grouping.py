"""Deployments and events on hand-made timelines: the gap boundary (exactly the gap, the gap
plus one second), files without a capture time, same-second bursts ordered by name, MaxN rather
than a sum, cameras split by serial number, a deeper folder level, the median position."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from model_server.outputs.camtrap_dp.tables import event_observations
from shared.events.grouping import NO_TIME, by_file, deployments, events
from shared.events.model import Event, Item

T0 = datetime(2024, 6, 1, 5, 0, 0)


def item(
    path: str,
    seconds: float | None,
    animals: int = 0,
    *,
    serial: str = "",
    gps: tuple[float, float] | None = None,
    conf: float | None = None,
    failed: bool = False,
) -> Item:
    return Item(
        path,
        None if seconds is None else T0 + timedelta(seconds=seconds),
        {"animal": animals, "person": 0, "vehicle": 0},
        conf,
        failed,
        serial,
        "RECONYX",
        "HF2",
        *(gps or (None, None)),
    )


def grouped(items: list[Item], gap: float = 60, level: int = 1) -> list[list[str]]:
    return [[p.rsplit("/", 1)[-1] for p in e.files] for e in events(deployments(items, level), gap)]


def test_exactly_the_gap_is_one_event_and_a_second_more_is_two() -> None:
    assert grouped([item("cam/a.jpg", 0), item("cam/b.jpg", 60)]) == [["a.jpg", "b.jpg"]]
    assert grouped([item("cam/a.jpg", 0), item("cam/b.jpg", 61)]) == [["a.jpg"], ["b.jpg"]]
    # the gap is to the previous file, not to the event's first: a chain stays one event
    chain = [item(f"cam/{i}.jpg", 50 * i) for i in range(5)]
    assert grouped(chain) == [[f"{i}.jpg" for i in range(5)]]
    assert grouped(chain, gap=0) == [[f"{i}.jpg"] for i in range(5)]


def test_files_without_a_time_are_events_of_their_own() -> None:
    found = events(
        deployments([item("cam/a.jpg", 0), item("cam/x.jpg", None), item("cam/b.jpg", 10)]), 60
    )
    assert [e.files for e in found] == [["cam/a.jpg", "cam/b.jpg"], ["cam/x.jpg"]]
    assert found[1].note == NO_TIME and found[1].start is None


def test_same_second_frames_keep_their_name_order_and_time_beats_upload_order() -> None:
    items = [item("cam/IMG (2).JPG", 5), item("cam/IMG (1).JPG", 5), item("cam/early.jpg", 0)]
    assert grouped(items) == [["early.jpg", "IMG (1).JPG", "IMG (2).JPG"]]


def test_an_event_counts_the_most_seen_at_once_not_the_sum() -> None:
    found = events(
        deployments(
            [
                item("cam/a.jpg", 0, 2, conf=0.7),
                item("cam/b.jpg", 5, 3, conf=0.9),
                item("cam/c.jpg", 10, 1, conf=0.95),
            ]
        ),
        60,
    )
    assert len(found) == 1 and found[0].maxn == {"animal": 3, "person": 0, "vehicle": 0}
    assert found[0].outcome == "animal" and found[0].max_conf == 0.95
    empty = events(deployments([item("cam/a.jpg", 0), item("cam/b.jpg", 1, failed=True)]), 60)
    assert empty[0].outcome == "empty"
    broken = events(deployments([item("cam/b.jpg", 1, failed=True)]), 60)
    assert broken[0].outcome == "error"


def test_deployments_by_folder_level_and_camera_serial() -> None:
    items = [
        item("siteA/cam1/DCIM/a.jpg", 0),
        item("siteA/cam2/DCIM/b.jpg", 5),
        item("siteB/c.jpg", 0, serial="S1"),
        item("siteB/d.jpg", 5, serial="S2"),
        item("siteB/e.jpg", 9),
        item("top.jpg", 0),
    ]
    top = deployments(items, 1)
    assert [d.id for d in top] == ["(top level)", "siteA", "siteB [S1]", "siteB [S2]"]
    assert [len(d.items) for d in top] == [1, 2, 2, 1]  # e.jpg, no serial, with the first
    two = deployments(items, 2)
    assert [d.id for d in two] == [
        "(top level)",
        "siteA/cam1",
        "siteA/cam2",
        "siteB [S1]",
        "siteB [S2]",
    ]
    # the same second in two cameras: two events, one per camera
    found = events(two, 60)
    assert {e.deployment: len(e.files) for e in found}["siteA/cam1"] == 1
    assert by_file(found)["siteA/cam2/DCIM/b.jpg"].deployment == "siteA/cam2"


def test_a_deployment_has_its_span_camera_and_median_position() -> None:
    items = [
        item("cam/a.jpg", 0, gps=(-33.0, 151.0)),
        item("cam/b.jpg", 3600, gps=(-33.2, 151.2)),
        item("cam/c.jpg", 7200, gps=(-33.1, 151.9)),
        item("cam/d.jpg", None),
    ]
    (found,) = deployments(items)
    assert (found.start, found.end) == (T0, T0 + timedelta(hours=2))
    assert (found.make, found.model) == ("RECONYX", "HF2")
    assert (found.latitude, found.longitude) == (-33.1, 151.2)  # an outlier moves no median


def test_an_event_says_how_much_of_it_was_reviewed_and_names_its_species() -> None:
    """Reviewed files count what their reviewer kept; the event's species MaxN is per species,
    and an event of reviewed and unreviewed files is `mixed`."""
    deer = "Odocoileus virginianus"
    timeline = [
        replace(item("cam/a.jpg", 0, 3), reviewed=True, species={deer: 2}, reviewer="ana"),
        replace(item("cam/b.jpg", 10, 1), reviewed=True, species={deer: 1}, reviewer="bo"),
        item("cam/c.jpg", 20, 0),
    ]
    (event,) = events(deployments(timeline), 60)
    assert (event.reviewed, event.source, event.species, event.maxn["animal"]) == (
        2,
        "mixed",
        {deer: 2},
        3,
    )
    rows = event_observations(event, UTC, "MDv5a")
    assert [(r.get("scientificName"), r["count"]) for r in rows] == [
        (deer, 2),
        (None, 1),  # the third animal nobody named
    ]
    assert {r["classificationMethod"] for r in rows} == {"machine"}
    assert rows[0]["classifiedBy"] == "MDv5a; ana, bo"
    assert rows[0]["observationComments"] == "2 of 3 files reviewed"
    whole = Event("E1", "cam", ["cam/a.jpg"], None, None, {"animal": 0}, None, reviewed=1)
    assert whole.source == "reviewed" and whole.outcome == "empty"
    (blank,) = event_observations(whole, UTC, "MDv5a")
    assert (blank["observationType"], blank["classificationMethod"]) == ("blank", "human")


def test_a_median_position_carries_no_float_noise() -> None:
    """Two fixes' median is their mean: 43.465768350000005 unrounded (issue 28, item 8)."""
    assert statistics.median([43.4657683, 43.4657684]) == 43.465768350000005
    (camera,) = deployments(
        [
            item("cam/a.jpg", 0, gps=(43.4657683, 11.8851267)),
            item("cam/b.jpg", 10, gps=(43.4657684, 11.8851268)),
        ]
    )
    assert camera.latitude is not None and camera.longitude is not None
    assert len(repr(camera.latitude).split(".")[1]) <= 7
    assert len(repr(camera.longitude).split(".")[1]) <= 7
    assert abs(camera.latitude - 43.46576835) < 1e-7


def test_a_video_lasts_to_its_end_in_its_event_and_deployment() -> None:
    """A 30 s video captured at 05:00:10 ends at 05:00:40: its event and its deployment end
    there too, so Camtrap DP's observation of it never ends after them (issue 28, item 7)."""
    photo = item("cam/a.jpg", 0, 1)
    video = replace(item("cam/b.mp4", 10, 1), duration=30.0)
    found = deployments([photo, video])
    (event,) = events(found, 60)
    assert event.end == T0 + timedelta(seconds=40)
    assert found[0].end == T0 + timedelta(seconds=40) and found[0].start == T0
    assert video.ends == T0 + timedelta(seconds=40) and photo.ends == T0
