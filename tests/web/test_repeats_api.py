"""Suspected repeats through HTTP with a real worker (issue 29, item 1), on SQLite and
PostgreSQL: real trap photos of one camera folder, the stand-in model's animal box planted at
one place in 30 of them (a 'branch', on 30 days) and at ten other places in 10; the model's
fixed person box (0.5) is in every file, a repeat of its own."""

from __future__ import annotations

import io
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


def card(branch_days: range, others: range) -> tuple[bytes, set[str], set[str]]:
    """A branch at one place on each of `branch_days`, and the animal elsewhere for `others`."""
    files: dict[str, bytes] = {}
    branch, elsewhere = set(), set()
    for i in branch_days:
        name = f"cam1/IMG_{i:04d}.JPG"
        files[name] = trap_photo(i, BRANCH, START + timedelta(days=i, hours=i % 5))
        branch.add(name)
    for i in others:
        name = f"cam1/IMG_{100 + i:04d}.JPG"
        x = 5 + 14 * (i % 10)
        patch = (x, 75 + (i % 3) * 10, x + 12, 90 + (i % 3) * 10)
        files[name] = trap_photo(i, patch, START + timedelta(days=i, hours=12))
        elsewhere.add(name)
    return zip_of(files), branch, elsewhere


def send(client, upload: bytes, headers: dict[str, str], project: int | None = None) -> str:
    data = form(files=[(upload, "card.zip")])
    if project is not None:
        data["project"] = str(project)
    with client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=headers
    ) as sent:
        assert sent.status_code == 201, sent.get_json()
        return sent.get_json()["id"]


@BOTH
def test_the_branch_and_the_fixed_person_are_the_repeats(client, run_worker, settings) -> None:
    upload, branch, elsewhere = card(range(30), range(10))
    job_id = send(client, upload, SCRIPT)
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
    assert animal["probably_animal"] == []  # no embedder in these settings: nothing measured
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


@BOTH
def test_a_projects_repeats_span_its_cards(client, team, run_worker, settings) -> None:
    """Two cards of one camera: the branch on 20 days of the first and 10 of the second is one
    group of 30 files at the location; each card alone sees its own part."""
    first, branch1, _ = card(range(20), range(5))
    second, branch2, _ = card(range(20, 30), range(5, 10))
    jobs = [send(client, c, team.auth("alice"), team.p1.id) for c in (first, second)]
    run_worker()
    url = f"/api/projects/{team.p1.id}/repeats"
    body = client.get(url, headers=team.auth("vic")).get_json()  # a viewer sees them
    animal = next(g for g in body["groups"] if g["category"] == "animal")
    assert (animal["files"], animal["events"], animal["location"]) == (30, 30, "cam1")
    assert animal["first"].startswith("2023-04-01") and animal["last"].startswith("2023-04-30")
    paths = set()
    for job_id in jobs:
        media = client.get(f"/api/jobs/{job_id}/media?per_page=100", headers=team.auth("alice"))
        paths |= {m["path"] for m in media.get_json()["media"] if m["id"] in animal["media"]}
    assert paths == branch1 | branch2  # the 30 branch files of both cards
    alone = [
        client.get(f"/api/jobs/{j}/repeats", headers=team.auth("alice")).get_json() for j in jobs
    ]
    assert [next(g["files"] for g in a["groups"] if g["category"] == "animal") for a in alone] == [
        20,
        10,
    ]
    assert client.get(url, headers=team.auth("bob")).status_code == 404
    assert client.get(url, headers=SCRIPT).status_code == 401


def items(client, job_id: str, headers: dict[str, str] | None = None) -> dict[str, dict]:
    """Every file of the job by path, as the gallery has it."""
    url = f"/api/jobs/{job_id}/media?per_page=100"
    media = client.get(url, headers=headers or {}).get_json()["media"]
    return {m["path"]: m for m in media}


def review(client, job_id: str, **body) -> dict:
    with client.post(
        f"/api/jobs/{job_id}/reviews", json={"reviewer": "rita", **body}, headers=SCRIPT
    ) as sent:
        assert sent.status_code in (200, 201), sent.get_json()
        return sent.get_json()


@BOTH
def test_reject_a_group_rescue_a_crop_undo(client, run_worker, settings) -> None:
    """The person box (every file) and then the branch are rejected, each in one batch: a branch
    file is left empty, the one crop rescued first stays an animal; undo of the branch's batch
    puts back each file as it was, and the rescue holds."""
    upload, branch, elsewhere = card(range(30), range(10))
    job_id = send(client, upload, SCRIPT)
    run_worker()
    groups = {
        g["category"]: g for g in client.get(f"/api/jobs/{job_id}/repeats").get_json()["groups"]
    }
    assert {g["state"] for g in groups.values()} == {"suspected"}
    files = items(client, job_id)
    saved_path = "cam1/IMG_0003.JPG"
    saved_box = next(d["id"] for d in files[saved_path]["detections"] if d["category"] == "animal")
    review(client, job_id, action="rescue", detection_id=saved_box)

    person = review(client, job_id, action="reject_group", group=groups["person"]["id"])
    assert (person["images"], person["boxes"], person["rescued"]) == (40, 40, 0)
    branch_batch = review(client, job_id, action="reject_group", group=groups["animal"]["id"])
    assert (branch_batch["images"], branch_batch["boxes"], branch_batch["rescued"]) == (30, 29, 1)

    files = items(client, job_id)
    assert {files[p]["verified_outcome"] for p in branch - {saved_path}} == {"empty"}
    assert files[saved_path]["verified_outcome"] == "animal"
    assert {files[p]["verified_outcome"] for p in elsewhere} == {"animal"}  # not in the group
    after = {
        g["category"]: g for g in client.get(f"/api/jobs/{job_id}/repeats").get_json()["groups"]
    }
    assert (after["animal"]["state"], after["animal"]["rejected"], after["animal"]["rescued"]) == (
        "rejected",
        29,
        1,
    )
    assert after["person"]["state"] == "rejected"
    summary = client.get(f"/api/jobs/{job_id}/summary").get_json()
    assert summary["outcomes"]["empty"] == 29, summary

    undone = review(client, job_id, action="undo_bulk", batch=branch_batch["batch"])
    assert (undone["undone"], undone["kept"]) == (30, 0)
    files = items(client, job_id)
    assert {files[p]["verified_outcome"] for p in branch} == {
        "animal"
    }  # as the person reject left them
    boxes = [d for p in branch for d in files[p]["detections"] if d["category"] == "animal"]
    assert {d["review"] for d in boxes} == {"accepted"}
    back = {
        g["category"]: g for g in client.get(f"/api/jobs/{job_id}/repeats").get_json()["groups"]
    }
    assert back["animal"]["state"] == "kept" and back["animal"]["rescued"] == 1

    kept = review(client, job_id, action="keep_group", group=groups["person"]["id"])
    assert kept["images"] == 40
    files = items(client, job_id)
    assert {
        d["review"] for m in files.values() for d in m["detections"] if d["category"] == "person"
    } == {"accepted"}
    with client.post(
        f"/api/jobs/{job_id}/reviews",
        json={"reviewer": "rita", "action": "reject_group", "group": "999999"},
        headers=SCRIPT,
    ) as missing:
        assert missing.status_code == 404 and "no suspected repeat" in missing.get_json()["error"]


@BOTH
def test_the_repeats_page_shows_each_group_with_its_crops(client, run_worker, settings) -> None:
    upload, _, _ = card(range(30), range(10))
    job_id = send(client, upload, SCRIPT)
    run_worker()
    body = client.get(f"/api/jobs/{job_id}/repeats").get_json()
    with client.get(f"/jobs/{job_id}/repeats") as page:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
    for group in body["groups"]:
        assert f'id="group-{group["id"]}"' in html
        assert f"{group['files']} files, {group['events']} events, {group['days']} days" in html
    assert html.count('class="crop"') == 70  # the person's 40 crops and the branch's 30
    animal = next(g for g in body["groups"] if g["category"] == "animal")
    files = items(client, job_id)
    box = next(d for d in files["cam1/IMG_0007.JPG"]["detections"] if d["category"] == "animal")
    with client.get(f"/jobs/{job_id}/repeats/crops/{box['id']}.jpg") as crop:
        assert crop.status_code == 200 and crop.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(crop.data)) as picture:
            middle = picture.convert("RGB").getpixel((picture.width // 2, picture.height // 2))
    assert isinstance(middle, tuple)
    assert middle[0] > 180 and middle[1] < 90  # the branch (the red patch) is in the middle
    assert animal["id"] in html
    with client.get(f"/jobs/{job_id}/repeats/crops/999999999.jpg") as missing:
        assert missing.status_code == 404
    with client.get(f"/jobs/{job_id}") as results:
        assert f'href="/jobs/{job_id}/repeats"' in results.get_data(as_text=True)


@BOTH
def test_a_projects_group_is_rejected_over_its_cards_and_undone(
    client, team, run_worker, settings
) -> None:
    first, _, _ = card(range(20), range(5))
    second, _, _ = card(range(20, 30), range(5, 10))
    jobs = [send(client, c, team.auth("alice"), team.p1.id) for c in (first, second)]
    run_worker()
    url = f"/api/projects/{team.p1.id}/repeats"
    animal = next(
        g
        for g in client.get(url, headers=team.auth("rita")).get_json()["groups"]
        if g["category"] == "animal"
    )
    reviews = f"/api/projects/{team.p1.id}/reviews"
    body = {"action": "reject_group", "group": animal["id"], "reviewer": "rita"}
    assert client.post(reviews, json=body, headers=team.auth("vic")).status_code == 403
    with client.post(reviews, json=body, headers=team.auth("rita")) as sent:
        assert sent.status_code == 201, sent.get_json()
        judged = sent.get_json()
    assert (judged["images"], judged["boxes"], judged["uploads"]) == (30, 30, 2)
    assert sorted(part.split(":")[0] for part in judged["batch"].split(",")) == sorted(jobs)
    after = client.get(url, headers=team.auth("rita")).get_json()["groups"]
    assert next(g for g in after if g["id"] == animal["id"])["state"] == "rejected"
    for job_id in jobs:  # each card's own page says the same of its part
        alone = client.get(f"/api/jobs/{job_id}/repeats", headers=team.auth("rita")).get_json()
        assert {g["state"] for g in alone["groups"] if g["category"] == "animal"} == {"rejected"}
    undo = {"action": "undo_bulk", "batch": judged["batch"], "reviewer": "rita"}
    with client.post(reviews, json=undo, headers=team.auth("rita")) as sent:
        assert sent.get_json()["undone"] == 30
    again = client.get(url, headers=team.auth("rita")).get_json()["groups"]
    assert next(g for g in again if g["id"] == animal["id"])["state"] == "suspected"
    with client.get(f"/projects/{team.p1.id}/repeats", headers=team.auth("vic")) as page:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
    assert "cam1 · animal · 30 files, 30 events, 30 days" in html
    assert f"/jobs/{jobs[1]}/repeats/crops/" in html and f"/jobs/{jobs[0]}/repeats/crops/" in html
