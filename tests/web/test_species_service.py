"""Species from examples through the service, with a real RQ worker running MegadetectorLite and
the YOLOX-Nano embedder on real ENA24 photos (scaled down here to keep each upload small): a
class set taught from a zip with a folder per class, its page, a job that uses it, the species
in every output, re-classifying without detecting, learning from review, and removing a class
behind the admin login. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from PIL import Image
from werkzeug.security import generate_password_hash

from tests.camtrap import rows
from tests.conftest import DATA, MODELS
from tests.videos import clip
from tests.web.helpers import SCRIPT, form, zip_of

ENA = DATA / "camera-trap" / "ena24"
# MegadetectorLite finds an animal in each of these at 0.25 (2968.jpg it misses)
TEACH = {
    "opossum": ["2480.jpg", "2573.jpg"],
    "skunk": ["2999.jpg", "3084.jpg"],
    "bear": ["9455.jpg"],
    "crow": ["8200.jpg", "49.jpg"],
    "chicken": ["6039.jpg"],
}
ADMIN = ("admin", "s3cret-for-tests")


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, settings, megadetector_lite: Path, tmp_path: Path):
    if request.param == "postgresql":
        from tests.conftest import database_url_for

        settings = replace(settings, database_url=database_url_for("postgresql", request, tmp_path))
    return replace(
        settings,
        model_path=megadetector_lite,
        detection_threshold=0.25,
        species_embedder=MODELS / "yolox_nano.onnx",
        admin_password_hash=generate_password_hash(ADMIN[1]),
    )


def small(name: str, side: int = 512) -> bytes:
    """A real ENA24 photo at `side` pixels wide (the test client's uploads stay small)."""
    with Image.open(ENA / name) as image:
        image.thumbnail((side, side))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()


def examples_zip(layout: dict[str, list[str]], extra: dict[str, bytes] | None = None) -> bytes:
    entries = {
        f"examples/{species}/{name}": small(name)
        for species, names in layout.items()
        for name in names
    }
    return zip_of({**entries, **(extra or {})})


def json_post(client, url: str, body: dict, **headers: str):
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": "", **headers},
    )


def teach(client, run_worker, name: str = "ena24") -> dict:
    with json_post(client, "/api/class-sets", {"name": name}) as created:
        assert created.status_code == 201, created.get_json()
    junk = {"examples/README.txt": b"not a photo", "examples/skunk/empty.jpg": b""}
    with client.post(
        f"/api/class-sets/{name}/examples",
        headers={"X-API-Key": ""},
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(examples_zip(TEACH, junk)), "teach.zip")},
    ) as sent:
        assert sent.status_code == 202, sent.get_json()
        upload_id = sent.get_json()["upload"]
    run_worker()
    with client.get(f"/api/class-sets/{name}/uploads/{upload_id}") as done:
        found = done.get_json()
    assert found["status"] == "done", found
    assert found["added"] == 8, found["without_animal"]
    assert any("empty.jpg" in line and "0 bytes" in line for line in found["without_animal"])
    assert any("README.txt" in line for line in found["without_animal"])
    with client.get(f"/api/class-sets/{name}") as shown:
        return shown.get_json()


def run_job(client, run_worker, *names: str, **fields: str) -> str:
    photos = zip_of({f"cam1/{n}": small(n) for n in names})
    with client.post(
        "/api/jobs",
        data={**form(files=[(photos, "card.zip")]), **fields},
        content_type="multipart/form-data",
        headers=SCRIPT,
    ) as response:
        assert response.status_code == 201, response.get_json()
        job_id = response.get_json()["id"]
    run_worker()
    with client.get(f"/api/jobs/{job_id}") as status:
        assert status.get_json()["status"] == "finished", status.get_json()
    return job_id


def outputs(client, job_id: str, into: Path) -> Path:
    with client.get(f"/download/{job_id}?what=full") as response:
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.data)) as z:
            z.extractall(into)
    return into


def test_a_class_set_taught_from_a_zip_and_shown(client, run_worker) -> None:
    details = teach(client, run_worker)
    counts = {c["species"]: c["examples"] for c in details["classes"]}
    assert counts == {"bear": 1, "chicken": 1, "crow": 2, "opossum": 2, "skunk": 2}
    assert details["embedder"].startswith("YOLOX neck features (yolox_nano.onnx")
    evaluation = details["evaluation"]
    assert sum(sum(row.values()) for row in evaluation["confusion"].values()) == 8
    assert any("chicken: only 1 example" in w for w in evaluation["warnings"])
    with client.get("/classes/ena24") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200
    for species in counts:
        assert f'data-species="{species}"' in html
    assert 'id="confusion"' in html and "Fewer than 5 examples" in html
    with client.get(details["classes"][0]["crops"][0]) as crop:
        assert crop.status_code == 200 and crop.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(crop.data)).size[0] <= 160
    with client.get("/classes") as index:
        assert "ena24" in index.get_data(as_text=True)
    with client.get("/") as upload_page:
        assert 'name="class_set"' in upload_page.get_data(as_text=True)


def test_a_job_with_a_class_set_carries_species_into_every_output(
    client, run_worker, tmp_path: Path
) -> None:
    teach(client, run_worker)
    job_id = run_job(client, run_worker, "2595.jpg", "5899.jpg", class_set="ena24")
    out = outputs(client, job_id, tmp_path)
    md = json.loads((out / "detections.json").read_text())
    categories = md["classification_categories"]
    assert sorted(categories.values()) == ["bear", "chicken", "crow", "opossum", "skunk"]
    assert md["info"]["classifier_metadata"]["class_set"] == "ena24"
    boxes = [d for im in md["images"] for d in im["detections"] if d["conf"] >= 0.25]
    assert boxes
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    header, *lines = [list(r) for r in book["Detections"].iter_rows(values_only=True)]
    book.close()  # a read-only workbook keeps its file open until closed
    found = [dict(zip(header, r, strict=True)) for r in lines]
    assert {"species", "species_source", "species_distance", "species_runner_up"} <= set(header)
    for row in found:
        assert row["species_source"] == "machine"
        assert row["species"] in [*categories.values(), "unknown"]
        assert 0 <= row["species_distance"] < 1 and row["species_runner_up"]
    named = [r for r in found if r["species"] != "unknown"]
    # every named box has MegaDetector-style classifications; an "unknown" one has none
    assert sum(1 for d in boxes if d.get("classifications")) == len(named)
    for d in boxes:
        for class_id, score in d.get("classifications", []):
            assert class_id in categories and 0 < score <= 1
    observed = {
        o["scientificName"]
        for o in rows(out / "camtrap-dp", "observations")
        if o["observationType"] == "animal"
    }
    assert observed - {""} == {r["species"] for r in named}
    with client.get(f"/jobs/{job_id}") as page:
        html = page.get_data(as_text=True)
    assert 'id="species-state"' in html and "ena24" in html and 'id="classify-form"' in html
    # a reports-only job is classified at upload, from the photos, but keeps nothing to crop
    # again later: its page says so in place of the form
    quick = run_job(client, run_worker, "2595.jpg", class_set="ena24", reports_only="on")
    with client.get(f"/jobs/{quick}") as page:
        html = page.get_data(as_text=True)
    assert "animal box(es) got a suggestion" in html and 'id="classify-unavailable"' in html
    assert 'id="classify-form"' not in html


def test_classify_again_without_detecting_and_learn_from_review(
    client, run_worker, app, tmp_path: Path
) -> None:
    teach(client, run_worker)
    job_id = run_job(client, run_worker, "2595.jpg", "2968.jpg")
    engine = app.extensions["trapline.store"]
    from shared.store.reads import iter_media

    def suggestions() -> list:
        return [
            d.get("suggested_species")
            for r in iter_media(engine, job_id)
            for d in r.detections
            if d["category"] == "1" and d["conf"] >= 0.25
        ]

    assert suggestions() and set(suggestions()) == {None}  # no set chosen at upload
    with json_post(client, f"/api/jobs/{job_id}/classify", {"class_set": "ena24"}) as started:
        assert started.status_code == 202, started.get_json()
    run_worker()
    assert None not in suggestions()
    with client.get(f"/api/jobs/{job_id}/media?order=species_uncertain") as ordered:
        media = ordered.get_json()["media"]

    def doubt(item: dict) -> float:
        return min(
            0.0 if d["suggested_species"] == "unknown" else d["species_margin"]
            for d in item["detections"]
            if d["suggested_species"]
        )

    assert len(media) == 2 and doubt(media[0]) <= doubt(media[1])
    md = json.loads((outputs(client, job_id, tmp_path / "a") / "detections.json").read_text())
    assert "classification_categories" in md  # the outputs were made again
    # a reviewer names the opossum; learning adds that box to the set
    record = next(r for r in iter_media(engine, job_id) if r.file.endswith("2595.jpg"))
    box = max((d for d in record.detections if d["category"] == "1"), key=lambda d: d["conf"])
    with json_post(
        client,
        f"/api/jobs/{job_id}/reviews",
        {"action": "species", "detection_id": box["id"], "species": "opossum", "reviewer": "ada"},
    ) as named:
        assert named.status_code == 201, named.get_json()
    with json_post(
        client, f"/api/jobs/{job_id}/classify", {"class_set": "ena24", "learn": True}
    ) as started:
        assert started.status_code == 202, started.get_json()
    run_worker()
    details = client.get("/api/class-sets/ena24").get_json()
    assert {c["species"]: c["examples"] for c in details["classes"]}["opossum"] == 3
    # learning twice from the same review adds nothing
    with json_post(
        client, f"/api/jobs/{job_id}/classify", {"class_set": "ena24", "learn": True}
    ) as again:
        assert again.status_code == 202
    run_worker()
    details = client.get("/api/class-sets/ena24").get_json()
    assert {c["species"]: c["examples"] for c in details["classes"]}["opossum"] == 3


def test_a_videos_animals_are_classified_on_its_best_frame(
    client, run_worker, app, tmp_path: Path
) -> None:
    """A clip of a real opossum photo between empty frames: the boxes on the frame the store
    keeps for the video get a suggestion at upload, and again on a finished job."""
    from shared.store.reads import iter_media
    from shared.store.species_data import classification_of

    teach(client, run_worker)
    with Image.open(io.BytesIO(small("2595.jpg"))) as opened:
        w, h = opened.size
        still = opened.convert("RGB").crop((0, 0, w // 2 * 2, h // 2 * 2))
    empty = Image.new("RGB", still.size, (70, 80, 70))
    visit = clip(tmp_path / "visit.mp4", [empty, still, still, empty], fps=1).read_bytes()
    with client.post(
        "/api/jobs",
        data={**form(files=[(visit, "visit.mp4")]), "class_set": "ena24", "frame_interval": "1"},
        content_type="multipart/form-data",
        headers=SCRIPT,
    ) as response:
        assert response.status_code == 201, response.get_json()
        job_id = response.get_json()["id"]
    run_worker()
    engine = app.extensions["trapline.store"]

    def boxes() -> tuple[int, list, list]:
        [record] = list(iter_media(engine, job_id))
        assert record.video is not None
        best = record.video["best_frame"]
        animals = [d for d in record.detections if d["category"] == "1" and d["conf"] >= 0.25]
        return (
            best,
            [d.get("suggested_species") for d in animals if d["frame"] == best],
            [d.get("suggested_species") for d in animals if d["frame"] != best],
        )

    best, on_best, elsewhere = boxes()
    assert best in (1, 2) and on_best and None not in on_best
    assert elsewhere and set(elsewhere) == {None}  # the other frames keep thumbnails only
    done = classification_of(engine, job_id)
    assert done["boxes"] == len(on_best) and done["no_picture"] == 0
    with json_post(client, f"/api/jobs/{job_id}/classify", {"class_set": "ena24"}) as again:
        assert again.status_code == 202, again.get_json()
    run_worker()
    assert boxes()[1] == on_best  # the kept rendition both times: the same answers
    report = outputs(client, job_id, tmp_path / "out") / "report.xlsx"
    book = openpyxl.load_workbook(report, read_only=True)
    header, *lines = [list(r) for r in book["Detections"].iter_rows(values_only=True)]
    book.close()
    named = {r[header.index("species")] for r in lines} - {None, ""}
    assert named == set(on_best)


def test_removing_a_class_needs_the_admin_and_leaves_the_others(client, run_worker, app) -> None:
    teach(client, run_worker)
    from shared.store.class_sets import get_set, load_classes

    engine = app.extensions["trapline.store"]
    row = get_set(engine, "ena24")
    assert row is not None
    before = load_classes(engine, row.id)
    with client.delete("/api/class-sets/ena24/classes/crow", headers=SCRIPT) as refused:
        assert refused.status_code == 401
    token = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
    with client.delete(
        "/api/class-sets/ena24/classes/crow",
        headers={"Authorization": f"Basic {token}", **SCRIPT},
    ) as removed:
        assert removed.status_code == 200, removed.get_json()
    after = load_classes(engine, row.id)
    assert sorted(after.examples) == ["bear", "chicken", "opossum", "skunk"]
    for name in after.examples:
        assert np.array_equal(after.centroid(name), before.centroid(name))
    # adding a class back changes only that class
    with client.post(
        "/api/class-sets/ena24/examples",
        headers={"X-API-Key": ""},
        content_type="multipart/form-data",
        data={
            "file": (io.BytesIO(examples_zip({"x": ["8200.jpg"]})), "crow.zip"),
            "species": "American crow",
        },
    ) as sent:
        assert sent.status_code == 202
    run_worker()
    grown = load_classes(engine, row.id)
    assert sorted(grown.examples) == ["American crow", "bear", "chicken", "opossum", "skunk"]
    for name in after.examples:
        assert np.array_equal(grown.centroid(name), after.centroid(name))


def test_a_class_threshold_set_by_hand(client, run_worker, app) -> None:
    teach(client, run_worker)
    with json_post(
        client, "/api/class-sets/ena24/thresholds", {"species": "bear", "threshold": 0.5}
    ) as saved:
        assert saved.status_code == 200, saved.get_json()
    shown = {c["species"]: c for c in client.get("/api/class-sets/ena24").get_json()["classes"]}
    assert shown["bear"]["threshold"] == 0.5 and shown["bear"]["threshold_set_by_hand"]
    assert not shown["crow"]["threshold_set_by_hand"]
    job_id = run_job(client, run_worker, "9455.jpg", class_set="ena24")
    from shared.store.species_data import classification_of

    assert classification_of(app.extensions["trapline.store"], job_id)["thresholds"]["bear"] == 0.5
    with json_post(
        client, "/api/class-sets/ena24/thresholds", {"species": "bear", "threshold": None}
    ) as cleared:
        assert cleared.status_code == 200
    shown = {c["species"]: c for c in client.get("/api/class-sets/ena24").get_json()["classes"]}
    assert not shown["bear"]["threshold_set_by_hand"] and shown["bear"]["threshold"] < 0.5
    for bad in (0, -1, 3, "x"):
        with json_post(
            client, "/api/class-sets/ena24/thresholds", {"species": "bear", "threshold": bad}
        ) as refused:
            assert refused.status_code == 400
    with json_post(
        client, "/api/class-sets/ena24/thresholds", {"species": "wolf", "threshold": 0.1}
    ) as missing:
        assert missing.status_code == 404


def test_refusals(client) -> None:
    with json_post(client, "/api/class-sets", {"name": "../etc"}) as bad:
        assert bad.status_code == 400
    with json_post(client, "/api/class-sets", {"name": "ok"}) as made:
        assert made.status_code == 201
    with json_post(client, "/api/class-sets", {"name": "ok"}) as again:
        assert again.status_code == 400 and "already exists" in again.get_json()["error"]
    with client.post(
        "/api/class-sets/ok/examples",
        headers={"X-API-Key": ""},
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"x"), "photos.tar")},
    ) as wrong:
        assert wrong.status_code == 400
    with client.post(
        "/api/jobs",
        data={**form(files=[(small("2595.jpg"), "a.jpg")]), "class_set": "nope"},
        content_type="multipart/form-data",
        headers=SCRIPT,
    ) as refused:
        assert refused.status_code == 400 and "no class set" in refused.get_json()["error"]
    with client.post("/api/class-sets", data={"name": "browser"}) as no_token:
        assert no_token.status_code == 400  # a browser's form without the CSRF token
