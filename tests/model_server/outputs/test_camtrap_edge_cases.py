"""The package for what real cards hold beside plain photos, written from hand-made records: a
video (one observation per category with its most boxes in one frame), a reviewed photo (the
reviewer's boxes and species, `classificationMethod` human), an unreadable file and one without
a capture time. Each package is validated offline against the published 1.0.2 schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model_server.outputs.camtrap_dp.package import CamtrapWriter
from model_server.outputs.event_tables import EventTables
from shared.events.model import Item
from shared.store.records import MediaRecord
from tests.camtrap import descriptor, problems, rows

CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def record(path: str, captured: str | None, detections: list[dict], **extra: Any) -> MediaRecord:
    meta = {"captured": captured} if captured else {}
    return MediaRecord(
        file=path, detections=detections, metadata=meta, width=1920, height=1080, **extra
    )


def box(category: str, conf: float, frame: int | None = None, **extra: object) -> dict:
    found = {"category": category, "conf": conf, "bbox": [0.9, 0.1, 0.3, 0.2], **extra}
    return found if frame is None else {**found, "frame": frame}


RECORDS = [
    record(
        "cam1/clip.MP4",
        "2024-06-01T05:00:00",
        [box("1", 0.9, 0), box("1", 0.8, 5), box("1", 0.7, 5), box("2", 0.3, 5)],
        kind="video",
        video={"duration": 12.5},
    ),
    record(
        "cam1/IMG_0002.JPG",
        "2024-06-01T05:00:30",
        [
            box(
                "1",
                0.6,
                id=1,
                source="machine",
                verdict="changed",
                verified_category="1",
                species="Vulpes vulpes",
                reviewer="ana",
            ),
            box("2", 0.5, id=2, source="machine", verdict="rejected", reviewer="ana"),
        ],
        review="changed",
        reviewer="ana",
        verified_outcome="animal",
    ),
    record("cam1/IMG_0003.JPG", "2024-06-01T09:00:00", []),
    record("cam2/broken.jpg", None, [], failure="not a readable image"),
    record("cam2/IMG_0001.JPG", None, [box("3", 0.95)]),
]


def item(r: MediaRecord) -> Item:
    counts = r.counts(0.2)
    return Item(
        r.file,
        r.captured,
        {"animal": counts["1"], "person": counts["2"], "vehicle": counts["3"]},
        r.max_conf,
        r.failure is not None,
    )


def write(folder: Path, places: dict, records: list[MediaRecord] = RECORDS) -> dict:
    events = EventTables.build([item(r) for r in records], gap_seconds=60, level=1)
    writer = CamtrapWriter(
        folder,
        events,
        job_id="J1",
        model="test model",
        threshold=0.2,
        utc_offset="-05:00",
        places=places,
    )
    for r in records:
        writer.add(r)
    return writer.close(CREATED).as_summary()


def test_every_kind_of_record_gives_schema_valid_rows(tmp_path: Path) -> None:
    facts = write(tmp_path, {"cam1": (44.5, -72.9), "cam2": (44.6, -72.8), "cam9": (1.0, 1.0)})
    found = problems(tmp_path)
    # only what Camtrap DP must refuse: two files without a capture time, so a camera without
    # a start and end
    assert {(p.where, p.field) for p in found} == {
        ("media", "timestamp"),
        ("deployments", "deploymentStart"),
        ("deployments", "deploymentEnd"),
        ("observations", "eventStart"),
        ("observations", "eventEnd"),
    }, found
    assert facts["valid"] is False and facts["missing_places"] == []
    assert facts["problems"] == [
        "1 deployment(s) without any capture time: cam2",
        "2 file(s) without a capture time: cam2/broken.jpg, cam2/IMG_0001.JPG",
    ]
    assert facts["notes"] == ["coordinates were given for cam9, not a deployment of this job"]
    obs = rows(tmp_path, "observations")
    media = {m["fileName"]: m for m in rows(tmp_path, "media")}
    assert media["clip.MP4"]["fileMediatype"] == "video/mp4"
    assert media["clip.MP4"]["timestamp"] == "2024-06-01T05:00:00-05:00"
    assert media["broken.jpg"]["mediaComments"] == "not readable: not a readable image"
    of = {name: [o for o in obs if o["mediaID"] == m["mediaID"]] for name, m in media.items()}
    video = {o["observationType"]: o for o in of["clip.MP4"]}
    assert (video["animal"]["count"], video["animal"]["bboxX"]) == ("2", "")  # MaxN, no box
    assert video["human"]["classificationProbability"] == "0.3"
    assert video["animal"]["eventEnd"] == "2024-06-01T05:00:12-05:00"
    reviewed = of["IMG_0002.JPG"]
    assert [
        (
            o["observationType"],
            o["scientificName"],
            o["classificationMethod"],
            o["classifiedBy"],
            o["classificationProbability"],
        )
        for o in reviewed
    ] == [("animal", "Vulpes vulpes", "human", "ana", "")]
    assert float(reviewed[0]["bboxWidth"]) == 0.1  # clipped at the image's right edge
    assert [o["observationType"] for o in of["IMG_0003.JPG"]] == ["blank"]
    assert [o["observationType"] for o in of["broken.jpg"]] == ["unclassified"]
    events = [
        (o["eventID"], o["observationType"], o["count"])
        for o in obs
        if o["observationLevel"] == "event"
    ]
    # cam1: the video and the fox 30 s apart are one event, the empty photo four hours later
    # another; cam2: each file without a time its own
    assert events == [
        ("E000001", "animal", "2"),
        ("E000001", "human", "1"),
        ("E000002", "blank", ""),
        ("E000003", "vehicle", "1"),
        ("E000004", "unclassified", ""),
    ]
    meta = descriptor(tmp_path)
    assert meta["taxonomic"] == [{"scientificName": "Vulpes vulpes"}]
    assert meta["created"] == "2026-11-20T09:30:00Z"


def test_timed_files_with_coordinates_are_valid(tmp_path: Path) -> None:
    facts = write(tmp_path, {"cam1": (44.5, -72.9)}, RECORDS[:3])
    assert problems(tmp_path) == []
    assert facts == {
        "valid": True,
        "problems": [],
        "missing_places": [],
        "notes": [],
        "utc_offset": "-05:00",
        "checked": False,
        "validator": [],
    }
    meta = descriptor(tmp_path)
    assert meta["spatial"] == {"type": "Point", "coordinates": [-72.9, 44.5]}
    assert meta["temporal"] == {"start": "2024-06-01", "end": "2024-06-01"}


def test_what_only_the_validator_sees_makes_the_package_invalid(tmp_path: Path, caplog) -> None:
    from model_server.outputs.camtrap_dp.package import PackageFacts, validated
    from tests.camtrap import SCHEMAS

    write(tmp_path, {"cam1": (44.5, -72.9)}, RECORDS[:3])
    facts = validated(tmp_path, PackageFacts(True, []), SCHEMAS)
    assert (facts.valid, facts.checked) == (True, True)
    observations = tmp_path / "observations.csv"
    observations.write_text(observations.read_text().replace(",media,", ",frame,", 1))
    facts = validated(tmp_path, PackageFacts(True, []), SCHEMAS)
    assert not facts.valid and "Trapline did not expect" in caplog.text
    assert facts.problems[0].startswith(
        "the validator (frictionless) found 1 problem(s) of 1 kind(s): "
        "1 × observations (observationLevel)"
    )
    assert [(g["kind"], g["where"], g["field"], g["rows"]) for g in facts.validator] == [
        ("Constraint Error", "observations", "observationLevel", [2])
    ]
    assert descriptor(tmp_path)["trapline"]["validForPublication"] is False
