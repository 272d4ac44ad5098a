"""Events and deployments in the report, on real bursts through the batch command: camtrapR's
three StationC frames (two in the same second, 2 minutes after the first) and the Camtrap DP
example's 10-frame heron burst (one event over 6 s), each input folder one camera."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DATA

CAMTRAPR = DATA / "camera-trap" / "camtrapR-burst-StationC-TRA"
HERON = DATA / "camtrap-dp" / "example" / "media"


def values(result, sheet: str) -> list[dict]:
    return [{k: c.value for k, c in row.items()} for row in result.sheet_rows(sheet)]


def test_real_bursts_become_events_per_camera(red_patch_model: Path, run_batch_cli) -> None:
    code, _, err, result = run_batch_cli(
        CAMTRAPR, HERON, "--model", red_patch_model, "--threshold", "0.4"
    )
    assert code == 0, err
    events = values(result, "Events")
    station = [e for e in events if e["deployment"] == "camtrapR-burst-StationC-TRA"]
    heron = [e for e in events if e["deployment"] == "media"]
    assert [(e["files"], e["first_file"].rsplit("/", 1)[1]) for e in station] == [
        (1, "StationC__2009-04-11__21-44-00(1).JPG"),
        (2, "StationC__2009-04-11__21-46-00(1).JPG"),
    ]
    assert [(e["files"], str(e["start"]), str(e["end"])) for e in heron] == [
        (10, "2021-04-11 20:43:09", "2021-04-11 20:43:15")
    ]
    # the test model's person box (0.5) is in every photo, one at a time
    assert {(e["outcome"].split("+")[-1], e["persons_maxn"]) for e in events} == {("person", 1)}
    media = {m["file"]: m for m in values(result, "Media")}
    same_second = [
        media[f"camtrapR-burst-StationC-TRA/StationC__2009-04-11__21-46-00({n}).JPG"]
        for n in (1, 2)
    ]
    assert same_second[0]["event_id"] == same_second[1]["event_id"] == station[1]["event_id"]
    assert len({m["event_id"] for m in media.values()}) == 3
    cameras = {d["deployment"]: d for d in values(result, "Deployments")}
    assert {k: (d["files"], d["events"]) for k, d in cameras.items()} == {
        "camtrapR-burst-StationC-TRA": (3, 2),
        "media": (10, 1),
    }
    assert str(cameras["media"]["start"]) == "2021-04-11 20:43:09"
    summary = {
        r[0].value: r[1].value
        for r in result.workbook()["Summary"].iter_rows()
        if r[1].value is not None
    }
    assert summary["Deployments (cameras)"] == 2
    assert summary["Events (a gap of at most 60 s within one)"] == 3
    with (result.root / "events.csv").open(encoding="utf-8-sig") as fh:
        assert fh.read().count("\n") == 1 + 3


def test_the_event_gap_and_folder_level_are_options(
    red_patch_model: Path, run_batch_cli, capsys
) -> None:
    code, _, err, result = run_batch_cli(
        HERON, CAMTRAPR, "--model", red_patch_model, "--event-gap", "0", "--deployment-level", "1"
    )
    assert code == 0, err
    heron = [e for e in values(result, "Events") if e["deployment"] == "media"]
    # at a gap of 0 only frames of the same second stay together: 7 distinct seconds
    # (capture seconds 09, 10 10, 11, 12 12, 13 13, 14, 15 in the example's EXIF)
    assert [e["files"] for e in heron] == [1, 2, 1, 2, 2, 1, 1]
    code, _, err, result = run_batch_cli(
        HERON, CAMTRAPR, "--model", red_patch_model, "--event-gap", "300"
    )
    station = [
        e for e in values(result, "Events") if e["deployment"] == "camtrapR-burst-StationC-TRA"
    ]
    assert [e["files"] for e in station] == [3]  # 2 minutes apart: one event at 5 minutes
