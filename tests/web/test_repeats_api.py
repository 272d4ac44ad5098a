"""Suspected repeats through HTTP with a real worker (issue 29, item 1), on SQLite and
PostgreSQL: real trap photos of one camera folder, the stand-in model's animal box planted at
one place in 30 of them (a 'branch', on 30 days) and at ten other places in 10; the model's
fixed person box (0.5) is in every file, a repeat of its own."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PIL import Image

from shared.storage import new_job_id
from tests.conftest import DATA
from tests.images import RED, exif_block, jpeg_bytes
from tests.web.helpers import SCRIPT, form, zip_of

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
PHOTOS = sorted((DATA / "camera-trap" / "ena24").glob("*.jpg"))
SIZE = (160, 120)  # small enough that the test client keeps the upload in memory
BRANCH = (100, 20, 118, 40)
START = datetime(2023, 4, 1, 6, 0)


def trap_photo(i: int, patch: tuple[int, int, int, int], when: datetime) -> bytes:
    with Image.open(PHOTOS[i % len(PHOTOS)]) as real:
        image = real.convert("L").convert("RGB").resize(SIZE)  # grey: no natural pure red
    image.paste(RED, patch)
    return jpeg_bytes(image, exif_block(when=when.strftime("%Y:%m:%d %H:%M:%S"), gps=None))


def card() -> tuple[bytes, set[str], set[str]]:
    files: dict[str, bytes] = {}
    branch, elsewhere = set(), set()
    for i in range(30):
        name = f"cam1/IMG_{i:04d}.JPG"
        files[name] = trap_photo(i, BRANCH, START + timedelta(days=i, hours=i % 5))
        branch.add(name)
    for i in range(10):
        name = f"cam1/IMG_{100 + i:04d}.JPG"
        x = 5 + 14 * i
        patch = (x, 75 + (i % 3) * 10, x + 12, 90 + (i % 3) * 10)
        files[name] = trap_photo(i, patch, START + timedelta(days=i, hours=12))
        elsewhere.add(name)
    return zip_of(files), branch, elsewhere


@BOTH
def test_the_branch_and_the_fixed_person_are_the_repeats(client, run_worker, settings) -> None:
    upload, branch, elsewhere = card()
    with client.post(
        "/api/jobs",
        data=form(files=[(upload, "card.zip")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ) as sent:
        assert sent.status_code == 201
        job_id = sent.get_json()["id"]
    run_worker()
    media = client.get(f"/api/jobs/{job_id}/media?per_page=100").get_json()["media"]
    path_of = {m["id"]: m["path"] for m in media}
    assert len(path_of) == 40
    body = client.get(f"/api/jobs/{job_id}/repeats").get_json()
    assert body["rules"] == {"iou": 0.85, "min_files": 10, "min_share": 0.2, "max_box_area": 0.2}
    groups = {g["category"]: g for g in body["groups"]}
    assert [g["category"] for g in body["groups"]] == ["person", "animal"]  # largest first
    animal = groups["animal"]
    assert {path_of[m] for m in animal["media"]} == branch  # none of the other ten
    assert (animal["files"], animal["boxes"], animal["events"]) == (30, 30, 30)
    assert animal["location"] == "cam1" and animal["days"] == 30 and animal["share"] == 0.75
    assert animal["first"].startswith("2023-04-01T06:00")
    assert animal["last"].startswith("2023-04-30T10:00")
    x, y, w, h = animal["bbox"]
    assert (x * SIZE[0], y * SIZE[1], w * SIZE[0], h * SIZE[1]) == pytest.approx(
        (100, 20, 18, 20), abs=0.6
    )
    person = groups["person"]
    assert {path_of[m] for m in person["media"]} == branch | elsewhere


@BOTH
def test_repeats_of_a_job_the_store_does_not_hold(client, settings) -> None:
    assert client.get(f"/api/jobs/{new_job_id()}/repeats").status_code == 404
    assert client.get("/api/jobs/not-a-job/repeats").status_code == 404
