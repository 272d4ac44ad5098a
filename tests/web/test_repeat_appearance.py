"""An animal standing where the branch is (issue 29, item 2), with a real worker and the real
YOLOX-Nano embedder, on SQLite and PostgreSQL: the 'branch' is bark from a real ENA24 frame,
framed in red so the stand-in model boxes it, at one place in 30 files of one camera, its light
changing from file to file and a third of the files grey (night); in four of those files a real
ENA24 animal (MegaDetector's own box on its frame) stands in the same place instead. The group
holds all 30 files, and exactly the four animals are flagged as probably real."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageEnhance

from model_server.species.crops import crop_box
from tests.conftest import DATA, MODELS
from tests.images import exif_block, jpeg_bytes
from tests.web.helpers import SCRIPT, zip_of
from tests.web.test_repeats_api import PHOTOS, SIZE, START, items, send

ENA = DATA / "camera-trap" / "ena24"
SPOT = (60, 20, 110, 70)  # x0, y0, x1, y1 in a 160 x 120 frame
ANIMALS_AT = (4, 13, 22, 27)


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, settings, tmp_path: Path):
    if request.param == "postgresql":
        from tests.conftest import database_url_for

        settings = replace(settings, database_url=database_url_for("postgresql", request, tmp_path))
    return replace(settings, species_embedder=MODELS / "yolox_nano.onnx")


def ena_animals() -> list[Image.Image]:
    """Each shared ENA24 frame's most certain animal, cut where MegaDetector v4.1 boxed it."""
    reference = json.loads((DATA / "megadetector-format" / "ena.md.4.1.0.json").read_text())
    found = []
    for entry in reference["images"]:
        path = ENA / Path(entry["file"]).name
        animals = [d for d in entry["detections"] if d["category"] == "1"]
        if not path.is_file() or not animals:
            continue
        with Image.open(path) as image:
            crop = crop_box(image.convert("RGB"), max(animals, key=lambda d: d["conf"])["bbox"])
        assert crop is not None
        found.append(crop)
    return found


def framed(i: int, inside: Image.Image) -> bytes:
    with Image.open(PHOTOS[i % len(PHOTOS)]) as real:
        image = real.convert("L").convert("RGB").resize(SIZE)
    image.paste(inside.resize((SPOT[2] - SPOT[0], SPOT[3] - SPOT[1])), SPOT[:2])
    ImageDraw.Draw(image).rectangle(SPOT, outline=(255, 0, 0), width=3)
    when = (START + timedelta(days=i, hours=i % 5)).strftime("%Y:%m:%d %H:%M:%S")
    return jpeg_bytes(image, exif_block(when=when, gps=None))


def test_an_animal_where_the_branch_is_is_flagged(client, run_worker, settings) -> None:
    animals = ena_animals()
    with Image.open(ENA / "2968.jpg") as frame:
        bark = frame.convert("RGB").crop((100, 100, 500, 500))
    files = {}
    for i in range(30):
        if i in ANIMALS_AT:
            inside = animals[ANIMALS_AT.index(i)]
        else:
            inside = ImageEnhance.Brightness(bark).enhance(0.6 + 0.025 * i)
            if i % 3 == 0:
                inside = inside.convert("L").convert("RGB")
        files[f"cam1/IMG_{i:04d}.JPG"] = framed(i, inside)
    job_id = send(client, zip_of(files), SCRIPT)
    run_worker()
    media = items(client, job_id)
    groups = client.get(f"/api/jobs/{job_id}/repeats").get_json()["groups"]
    branch = next(g for g in groups if g["category"] == "animal")
    assert branch["files"] == 30
    flagged = {p for p, m in media.items() if m["id"] in branch["probably_animal"]}
    assert flagged == {f"cam1/IMG_{i:04d}.JPG" for i in ANIMALS_AT}
    with client.get(f"/jobs/{job_id}/repeats") as page:
        html = page.get_data(as_text=True)
    assert "4 files look like a real animal in the same place" in html
    strip = html[html.index(f'id="group-{branch["id"]}"') :]
    tiles = re.findall(r'<li class="(crop[^"]*)"', strip)[:30]
    assert [t.endswith("probably-animal") for t in tiles] == [True] * 4 + [False] * 26  # first
    ids = {media[f"cam1/IMG_{i:04d}.JPG"]["id"] for i in ANIMALS_AT}
    assert ids == set(branch["probably_animal"])


def bark_card(days: range, animals_at: dict[int, Image.Image]) -> tuple[bytes, set[str]]:
    """The framed bark on each of `days`, an animal in its place on the days `animals_at` names;
    the paths of the animals' files."""
    with Image.open(ENA / "2968.jpg") as frame:
        bark = frame.convert("RGB").crop((100, 100, 500, 500))
    files, animal_files = {}, set()
    for i in days:
        inside = animals_at.get(i)
        if inside is None:
            inside = ImageEnhance.Brightness(bark).enhance(0.6 + 0.025 * (i % 30))
            if i % 3 == 0:
                inside = inside.convert("L").convert("RGB")
        else:
            animal_files.add(f"cam1/IMG_{i:04d}.JPG")
        files[f"cam1/IMG_{i:04d}.JPG"] = framed(i, inside)
    return zip_of(files), animal_files


def test_a_rule_spares_an_animal_on_its_spot(client, team, run_worker, settings) -> None:
    """The first card's bark is rejected over the project: the rule keeps the group's look. On
    the next card of the location the bark is suppressed, and the three animals standing in its
    place are not: they count as animals."""
    alice, rita = team.auth("alice"), team.auth("rita")
    first, _ = bark_card(range(20), {})
    send(client, first, alice, team.p1.id)
    run_worker()
    project = f"/api/projects/{team.p1.id}"
    groups = client.get(f"{project}/repeats", headers=rita).get_json()["groups"]
    branch = next(g for g in groups if g["category"] == "animal")
    assert (branch["files"], branch["probably_animal"]) == (20, [])
    with client.post(
        f"{project}/reviews",
        json={"action": "reject_group", "group": branch["id"], "reviewer": "rita"},
        headers=rita,
    ) as sent:
        rule = sent.get_json()["rule"]
    assert rule["appearance"].startswith("YOLOX neck features (yolox_nano.onnx")

    animals = ena_animals()
    standing = {24: animals[0], 27: animals[1], 31: animals[2]}
    second, animal_files = bark_card(range(20, 33), standing)
    second_id = send(client, second, alice, team.p1.id)
    run_worker()
    media = items(client, second_id, alice)
    held = {
        path: next(d for d in m["detections"] if d["category"] == "animal")["suppressed_by"]
        for path, m in media.items()
    }
    assert {p for p, by in held.items() if by is None} == animal_files
    assert {by for p, by in held.items() if p not in animal_files} == {rule["id"]}  # the bark
    assert {media[p]["outcome"] for p in animal_files} == {"animal+person"}
    summary = client.get(f"/api/jobs/{second_id}/summary", headers=alice).get_json()
    assert summary["outcomes"]["animal"] == 3
