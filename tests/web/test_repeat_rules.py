"""A rejected group teaches its location (issue 29, item 5), with a real worker on SQLite and
PostgreSQL: the first card's branch is rejected over the project (a reject undone first switches
its rule off again); the location's next card, processed by the model server, has its branch
boxes suppressed and its other animals untouched, in the media API, the figures, the job and
Repeats pages and the zip's MegaDetector JSON (judged by MegaDetector's own validator); the
rule switched off counts them again."""

from __future__ import annotations

import io
import json
import zipfile

from tests.model_server.outputs.test_megadetector_validator import judged
from tests.web.helpers import SCRIPT
from tests.web.test_repeats_api import BOTH, card, send


def post(client, url: str, headers: dict[str, str], **body) -> dict:
    with client.post(url, json={"reviewer": "rita", **body}, headers=headers) as sent:
        assert sent.status_code in (200, 201), sent.get_json()
        return sent.get_json()


def files_of(client, job_id: str, headers: dict[str, str], **filters) -> dict[str, dict]:
    query = "&".join(f"{k}={v}" for k, v in {"per_page": 100, **filters}.items())
    with client.get(f"/api/jobs/{job_id}/media?{query}", headers=headers) as answer:
        assert answer.status_code == 200, answer.get_json()
        return {m["path"]: m for m in answer.get_json()["media"]}


def animal_boxes(item: dict) -> list[dict]:
    return [d for d in item["detections"] if d["category"] == "animal"]


def md_json(client, job_id: str, headers: dict[str, str], tmp_path) -> dict:
    with client.get(f"/download/{job_id}", headers=headers) as answer:
        assert answer.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(answer.data))
    written = tmp_path / f"{job_id}.json"
    written.write_bytes(archive.read("detections.json"))
    return json.loads(written.read_text()) | {"_path": str(written)}


@BOTH
def test_a_rejected_branch_is_suppressed_on_the_next_card(
    client, team, run_worker, settings, tmp_path
) -> None:
    first, _, _ = card(range(20), range(5))
    alice, rita = team.auth("alice"), team.auth("rita")
    first_id = send(client, first, alice, team.p1.id)
    run_worker()
    project = f"/api/projects/{team.p1.id}"
    animal = next(
        g
        for g in client.get(f"{project}/repeats", headers=rita).get_json()["groups"]
        if g["category"] == "animal"
    )
    reviews = f"{project}/reviews"
    mistaken = post(client, reviews, rita, action="reject_group", group=animal["id"])
    assert mistaken["rule"]["location"] == "cam1" and mistaken["rule"]["active"]
    undone = post(client, reviews, rita, action="undo_bulk", batch=mistaken["batch"])
    assert undone["rules_off"] == [mistaken["rule"]["id"]]
    judged_group = post(client, reviews, rita, action="reject_group", group=animal["id"])
    rule = judged_group["rule"]
    assert (rule["category"], rule["files"], rule["iou"], rule["source"][:6]) == (
        "animal",
        20,
        0.85,
        "batch:",
    )
    listed = client.get(f"{project}/rules", headers=team.auth("vic")).get_json()["rules"]
    assert [(r["id"], r["active"]) for r in listed] == [
        (mistaken["rule"]["id"], False),
        (rule["id"], True),
    ]

    second, branch, elsewhere = card(range(20, 30), range(5, 10))
    second_id = send(client, second, alice, team.p1.id)
    run_worker()
    files = files_of(client, second_id, alice)
    assert {p: len(animal_boxes(files[p])) for p in branch} == dict.fromkeys(branch, 1)
    assert {animal_boxes(files[p])[0]["suppressed_by"] for p in branch} == {rule["id"]}
    assert {animal_boxes(files[p])[0]["suppressed_by"] for p in elsewhere} == {None}
    assert {files[p]["outcome"] for p in branch} == {"person"}  # the branch counts nowhere
    assert {files[p]["outcome"] for p in elsewhere} == {"animal+person"}
    assert set(files_of(client, second_id, alice, suppressed="yes")) == branch
    assert set(files_of(client, second_id, alice, outcome="animal")) == elsewhere
    summary = client.get(f"/api/jobs/{second_id}/summary", headers=alice).get_json()
    assert summary["outcomes"]["animal"] == 5, summary
    assert files_of(client, first_id, alice, suppressed="yes") == {}  # the card it came from

    data = md_json(client, second_id, alice, tmp_path)
    entries = {e["file"]: e for e in data["images"]}
    for path in branch:
        (box,) = [d for d in entries[path]["detections"] if d["category"] == "1"]
        assert box["conf"] < 0 and box["suppressed"] is True
        assert entries[path]["max_detection_conf"] >= 0
    for path in elsewhere:
        (box,) = [d for d in entries[path]["detections"] if d["category"] == "1"]
        assert box["conf"] > 0 and "suppressed" not in box
    assert judged(tmp_path / f"{second_id}.json")["errors"] == []

    with client.get(f"/jobs/{second_id}", headers=alice) as page:
        html = page.get_data(as_text=True)
    assert "10 boxes suppressed by 1 repeat rule" in html
    assert f'href="/jobs/{second_id}/repeats#suppressed"' in html
    with client.get(f"/jobs/{second_id}/repeats", headers=alice) as page:
        html = page.get_data(as_text=True)
    assert f'id="rule-{rule["id"]}"' in html and "10 boxes suppressed here" in html
    assert html.count('class="crop suppressed"') == 10
    after = client.get(f"{project}/repeats", headers=rita).get_json()["groups"]
    branch_group = next(g for g in after if g["category"] == "animal")
    assert (branch_group["files"], branch_group["state"]) == (20, "rejected")  # card 1's part

    url = f"{project}/rules/{rule['id']}"
    assert client.delete(url, headers=team.auth("vic")).status_code == 403
    assert client.delete(f"{project}/rules/999999", headers=rita).status_code == 404
    with client.delete(url, headers=rita) as off:
        assert off.status_code == 200, off.get_json()
        assert (off.get_json()["restored"], off.get_json()["active"]) == (10, False)
    files = files_of(client, second_id, alice)
    assert {files[p]["outcome"] for p in branch | elsewhere} == {"animal+person"}
    summary = client.get(f"/api/jobs/{second_id}/summary", headers=alice).get_json()
    assert summary["outcomes"]["animal"] == 15, summary
    listed = client.get(f"{project}/rules", headers=rita).get_json()["rules"]
    assert [(r["active"], r["suppressed"], r["switched_off_by"]) for r in listed][-1] == (
        False,
        0,
        "rita",
    )


@BOTH
def test_a_rule_set_by_hand_is_checked(client, team, settings) -> None:
    project = f"/api/projects/{team.p1.id}"
    rita = team.auth("rita")
    with client.post(
        f"{project}/deployments", json={"name": "Ridge 4"}, headers=team.auth("alice")
    ) as made:
        assert made.status_code == 201, made.get_json()
        location = made.get_json()["id"]
    good = {"location": location, "category": "person", "bbox": [0.1, 0.2, 0.1, 0.1]}
    for wrong, words in (
        ({**good, "bbox": [0.9, 0.2, 0.3, 0.1]}, "inside the frame"),
        ({**good, "bbox": "0.1,0.2"}, "bbox must be"),
        ({**good, "category": "deer"}, "category must be"),
        ({**good, "location": 999999}, "not one of this project's locations"),
        ({**good, "iou": 1.5}, "iou must be"),
    ):
        with client.post(f"{project}/rules", json=wrong, headers=rita) as refused:
            assert refused.status_code == 400 and words in refused.get_json()["error"]
    assert client.post(f"{project}/rules", json=good, headers=team.auth("vic")).status_code == 403
    assert client.post(f"{project}/rules", json=good, headers=SCRIPT).status_code == 401
    made_rule = post(client, f"{project}/rules", rita, **good)
    assert (made_rule["source"], made_rule["active"], made_rule["iou"], made_rule["files"]) == (
        "by hand",
        True,
        0.85,
        0,
    )
    assert made_rule["location"] == "Ridge 4" and made_rule["created_by"] == "rita"
