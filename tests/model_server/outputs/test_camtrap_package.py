"""The Camtrap DP package in the result zip, written by the batch command from real bursts
(camtrapR's StationC frames and the Camtrap DP example's heron burst, whose photos carry no GPS)
and validated offline against the published 1.0.2 profile and schemas."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.camtrap import descriptor, problems, rows
from tests.conftest import DATA

CAMTRAPR = DATA / "camera-trap" / "camtrapR-burst-StationC-TRA"
HERON = DATA / "camtrap-dp" / "example" / "media"
FILES = [
    "camtrap-dp/datapackage.json",
    "camtrap-dp/deployments.csv",
    "camtrap-dp/media.csv",
    "camtrap-dp/observations.csv",
]


def places_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "places.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_package_with_coordinates_is_valid(
    red_patch_model: Path, run_batch_cli, tmp_path: Path
) -> None:
    places = places_csv(
        tmp_path,
        "deployment,latitude,longitude\ncamtrapR-burst-StationC-TRA,-2.5,36.75\nmedia,51.2,5.1\n",
    )
    code, _out, err, result = run_batch_cli(
        CAMTRAPR,
        HERON,
        "--model",
        red_patch_model,
        "--threshold",
        "0.4",
        "--utc-offset",
        "-05:00",  # a western offset, written as people type it (issue 28, item 6)
        "--deployments",
        places,
    )
    assert code == 0, err
    assert set(FILES) <= set(result.names)
    package = result.root / "camtrap-dp"
    assert problems(package) == []
    meta = descriptor(package)
    assert meta["profile"].endswith("/1.0.2/camtrap-dp-profile.json")
    assert meta["created"].endswith("Z") and "T" in meta["created"]
    assert meta["trapline"]["validForPublication"] is True
    assert meta["temporal"] == {"start": "2009-04-11", "end": "2021-04-11"}
    assert meta["spatial"]["type"] == "Polygon"
    deployments = {d["deploymentID"]: d for d in rows(package, "deployments")}
    assert deployments["media"]["latitude"] == "51.2"
    assert deployments["media"]["deploymentStart"] == "2021-04-11T20:43:09-05:00"
    assert deployments["media"]["deploymentEnd"] == "2021-04-11T20:43:15-05:00"
    media = rows(package, "media")
    assert len(media) == 13 and all(m["timestamp"].endswith("-05:00") for m in media)
    assert {m["fileMediatype"] for m in media} == {"image/jpeg"}
    observations = rows(package, "observations")
    by_level = Counter(o["observationLevel"] for o in observations)
    # the test model's person box (0.5) is in every photo, its animal box only on red patches
    boxes = {
        m["file"]: [d for d in m["detections"] if d["conf"] >= 0.4] for m in result.json()["images"]
    }
    assert by_level["media"] == sum(max(1, len(b)) for b in boxes.values())
    humans = [
        o
        for o in observations
        if o["observationType"] == "human" and o["observationLevel"] == "media"
    ]
    assert len(humans) == 13
    assert all(
        o["classificationMethod"] == "machine"
        and o["classifiedBy"] == meta["trapline"]["model"]
        and 0.4 <= float(o["classificationProbability"]) <= 1
        and o["count"] == "1"
        for o in humans
    )
    x, y, w, h = (float(humans[0][k]) for k in ("bboxX", "bboxY", "bboxWidth", "bboxHeight"))
    assert 0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1
    events = [o for o in observations if o["observationLevel"] == "event"]
    assert {
        (o["eventID"], o["observationType"], o["count"])
        for o in events
        if o["observationType"] == "human"
    } == {(e["event_id"], "human", "1") for e in result.sheet_values("Events")}
    heron_event = next(o for o in events if o["deploymentID"] == "media")
    assert (heron_event["eventStart"], heron_event["eventEnd"]) == (
        "2021-04-11T20:43:09-05:00",
        "2021-04-11T20:43:15-05:00",
    )
    ids = {m["mediaID"] for m in media}
    assert {o["mediaID"] for o in observations if o["mediaID"]} <= ids


def test_package_without_coordinates_says_it_is_not_ready(
    red_patch_model: Path, run_batch_cli
) -> None:
    code, out, err, result = run_batch_cli(HERON, "--model", red_patch_model)
    assert code == 0, err
    package = result.root / "camtrap-dp"
    meta = descriptor(package)
    assert meta["trapline"]["validForPublication"] is False
    own, checked = meta["trapline"]["problems"]
    assert own == "1 deployment(s) without coordinates: (top level)"
    # the batch command validated its package too (TRAPLINE_CAMTRAP_DP_SCHEMAS, set by the tests)
    assert checked.startswith("the validator (frictionless) found ")
    assert "1 × deployments (latitude): " in checked  # grouped by kind, table and field
    assert "NOT VALID FOR PUBLICATION" in meta["description"]
    assert "Camtrap DP package: not valid for publication" in out
    found = problems(package)  # frictionless agrees: the coordinates are required
    assert {(p.where, p.field) for p in found} >= {
        ("deployments", "latitude"),
        ("deployments", "longitude"),
    }
    assert rows(package, "media")[0]["timestamp"] == "2021-04-11T20:43:09Z"  # UTC by default


def test_bad_coordinates_file_is_refused(
    red_patch_model: Path, run_batch_cli, tmp_path: Path, capsys
) -> None:
    places = places_csv(tmp_path, "media,91,5\n")
    with pytest.raises(SystemExit) as stop:
        run_batch_cli(HERON, "--model", red_patch_model, "--deployments", places)
    assert stop.value.code == 2
    assert "line 1: latitude must be -90 to 90" in capsys.readouterr().err
