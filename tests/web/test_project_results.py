"""A project's results across its uploads through the API, with a real worker, on both
databases: media from every card (filters, orders, one upload), the counts, review actions on
any of its media, and what each role sees."""

from __future__ import annotations

import pytest

from tests.web.test_teams import Team, upload

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


@BOTH
def test_media_and_counts_across_every_upload(client, team, run_worker) -> None:
    first = upload(client, team.auth("alice"), team.p1.id, n=3)
    second = upload(client, team.auth("alice"), team.p1.id, n=2)
    own = upload(client, team.auth("ulla"), team.p1.id, n=1)
    upload(client, team.auth("bob"), team.p2.id, n=4)
    run_worker()
    base = f"/api/projects/{team.p1.id}"
    alice, ulla = team.auth("alice"), team.auth("ulla")
    page = client.get(f"{base}/media?per_page=4&order=uncertain", headers=alice).get_json()
    assert (page["total"], page["pages"], len(page["media"])) == (6, 2, 4)
    rest = client.get(f"{base}/media?per_page=4&page=2&order=uncertain", headers=alice).get_json()
    seen = [(m["job"], m["path"]) for m in page["media"] + rest["media"]]
    assert len(set(seen)) == 6 and {j for j, _ in seen} == {first, second, own}
    item = page["media"][0]
    assert item["thumbnail_url"].startswith(f"/jobs/{item['job']}/thumbnails/")
    one = client.get(f"{base}/media?job={second}", headers=alice).get_json()
    assert one["total"] == 2 and {m["job"] for m in one["media"]} == {second}
    assert client.get(f"{base}/media?job=someone-elses", headers=alice).status_code == 400
    assert client.get(f"{base}/media?order=event", headers=alice).status_code == 400
    # an uploader sees their own card only; a non-member nothing
    assert client.get(f"{base}/media", headers=ulla).get_json()["total"] == 1
    assert client.get(f"{base}/media", headers=team.auth("bob")).status_code == 404
    assert client.get(f"{base}/media").status_code == 401
    counts = client.get(f"{base}/summary", headers=alice).get_json()
    assert (counts["images"], counts["uploads"]) == (6, 3)
    assert {j["job"]: j["images"] for j in counts["jobs"]} == {first: 3, second: 2, own: 1}
    assert client.get(f"{base}/summary", headers=ulla).get_json()["images"] == 1


@BOTH
def test_review_any_media_of_the_project(client, team, run_worker) -> None:
    first = upload(client, team.auth("alice"), team.p1.id, n=2)
    second = upload(client, team.auth("alice"), team.p1.id, n=2)
    other = upload(client, team.auth("bob"), team.p2.id, n=1)
    run_worker()
    base = f"/api/projects/{team.p1.id}"
    rita = team.auth("rita")
    items = client.get(f"{base}/media?order=path", headers=rita).get_json()["media"]
    target = next(m for m in items if m["job"] == second)
    done = client.post(
        f"{base}/reviews", json={"action": "empty", "media_id": target["id"]}, headers=rita
    )
    assert done.status_code == 201 and done.get_json()["job"] == second
    after = client.get(f"/api/jobs/{second}/media/{target['id']}", headers=rita).get_json()
    assert (after["verified_outcome"], after["reviewer"]) == ("empty", "rita")
    foreign = client.get(f"/api/jobs/{other}/media", headers=team.auth("bob")).get_json()["media"][
        0
    ]
    refused = client.post(
        f"{base}/reviews", json={"action": "empty", "media_id": foreign["id"]}, headers=rita
    )
    assert refused.status_code == 404  # bob's media is not reached through alice's project
    check_box_actions(client, team, base, items, foreign)
    viewer = client.post(
        f"{base}/reviews",
        json={"action": "empty", "media_id": target["id"]},
        headers=team.auth("vic"),
    )
    assert viewer.status_code == 403
    bulk = client.post(
        f"{base}/reviews", json={"action": "bulk_accept", "filter": {}}, headers=rita
    )
    assert bulk.status_code == 201
    assert bulk.get_json()["images"] == 3 and set(bulk.get_json()["batches"]) == {first, second}
    undo = {"action": "undo_bulk", "batch": bulk.get_json()["batch"]}
    undone = client.post(f"{base}/reviews", json=undo, headers=rita)
    assert undone.status_code == 200 and undone.get_json()["undone"] == 3, undone.get_json()
    # the one reviewed by hand before stays reviewed
    assert client.get(f"{base}/media?reviewed=no", headers=rita).get_json()["total"] == 3
    stray = {"action": "undo_bulk", "batch": f"{other}:x"}
    assert client.post(f"{base}/reviews", json=stray, headers=rita).status_code == 404
    again = client.post(
        f"{base}/reviews", json={"action": "bulk_accept", "filter": {}}, headers=rita
    )
    assert again.status_code == 201 and again.get_json()["images"] == 3
    summary = client.get(f"{base}/summary", headers=rita).get_json()
    assert 0 < summary["threshold"] <= 1  # where the review page's slider starts
    reviewed = client.get(f"{base}/media?reviewed=no", headers=rita).get_json()
    assert reviewed["total"] == 0
    check_evaluation_over_cards(client, team, [first, second])


def check_box_actions(client, team: Team, base: str, items: list, foreign: dict) -> None:
    """A box is named by its own id, a review undone by its id, as the job's viewer sends
    them; the answer is the media as the gallery shows it, with its upload."""
    rita = team.auth("rita")
    boxed = next((m for m in items if m["detections"]), None)
    assert boxed is not None
    box = boxed["detections"][0]["id"]
    done = client.post(
        f"{base}/reviews", json={"action": "reject", "detection_id": box}, headers=rita
    )
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body["job"] == boxed["job"] and body["media"]["job"] == boxed["job"]
    assert body["media"]["review"] and "thumbnail_url" in body["media"]
    undone = client.post(
        f"{base}/reviews", json={"action": "undo", "review_id": body["review_id"]}, headers=rita
    )
    assert undone.status_code == 201 and undone.get_json()["media"]["review"] == ""
    theirs = foreign["detections"][0]["id"] if foreign["detections"] else None
    if theirs is not None:
        stray = client.post(
            f"{base}/reviews", json={"action": "reject", "detection_id": theirs}, headers=rita
        )
        assert stray.status_code == 404


def check_evaluation_over_cards(client, team: Team, cards: list[str]) -> None:
    """The project's figures are those of all its reviewed images together: every count is the
    sum of the cards' own, at the same threshold."""
    rita = team.auth("rita")
    url = f"/api/projects/{team.p1.id}/evaluation?threshold=0.3&recall=0.9"
    whole = client.get(url, headers=rita).get_json()
    parts = [
        client.get(f"/api/jobs/{job}/evaluation?threshold=0.3&recall=0.9", headers=rita).get_json()
        for job in cards
    ]
    assert whole["images"] == sum(p["images"] for p in parts) == 4
    assert whole["threshold"] == 0.3 and whole["models"]
    for label in ("animal", "non-empty"):

        def row(report: dict, label: str = label) -> dict:
            return next(c for c in report["categories"] if c["category"] == label)

        for key in ("true_positives", "false_positives", "misses", "images"):
            assert row(whole)[key] == sum(row(p)[key] for p in parts), (label, key)
    target = whole["recall_target"]
    assert (target["category"], target["target"]) == ("animal", 0.9)
    assert client.get(url, headers=team.auth("bob")).status_code == 404
    assert client.get(f"{url}&category=fish", headers=rita).status_code == 400
    # the same figures on the project's accuracy page
    page_url = f"/projects/{team.p1.id}/accuracy?threshold=0.3&recall=0.9"
    page = client.get(page_url, headers=rita)
    shown = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="review-categories"' in shown
    assert "<strong>4</strong> image(s) compared" in shown and 'id="review-curve"' in shown
    animal = next(c for c in whole["categories"] if c["category"] == "animal")
    assert '<tr data-category="animal"><td>animal</td>' in shown
    assert f"<td>{animal['true_positives']}</td>" in shown
    assert client.get(page_url, headers=team.auth("bob")).status_code == 404
    bad = client.get(f"/projects/{team.p1.id}/accuracy?threshold=7", headers=rita)
    assert bad.status_code == 400 and 'id="error"' in bad.get_data(as_text=True)


def test_undo_after_a_reload_on_the_projects_review_page(client, team, run_worker) -> None:
    """The project's list of the caller's changes that can still be undone: her own review
    actions on any card, a bulk accept one card at a time (as the project's undo takes it)."""
    first = upload(client, team.auth("alice"), team.p1.id, n=1)
    second = upload(client, team.auth("alice"), team.p1.id, n=2)
    run_worker()
    base = f"/api/projects/{team.p1.id}"
    rita = team.auth("rita")
    items = client.get(f"{base}/media?order=path", headers=rita).get_json()["media"]
    one = next(m for m in items if m["job"] == first)
    done = client.post(
        f"{base}/reviews", json={"action": "empty", "media_id": one["id"]}, headers=rita
    )
    bulk = client.post(
        f"{base}/reviews", json={"action": "bulk_accept", "filter": {}}, headers=rita
    )
    assert bulk.status_code == 201 and bulk.get_json()["images"] == 2
    listed = client.get(f"{base}/reviews/undoable", headers=rita).get_json()["undoable"]
    assert listed == [
        {"review_id": done.get_json()["review_id"]},
        {"batch": f"{second}:{bulk.get_json()['batches'][second]}"},
    ]
    assert client.get(f"{base}/reviews/undoable", headers=team.auth("alice")).get_json() == {
        "undoable": []
    }
    assert client.get(f"{base}/reviews/undoable", headers=team.auth("vic")).status_code == 403
    for entry in reversed(listed):
        body = {"action": "undo_bulk", **entry} if "batch" in entry else {"action": "undo", **entry}
        assert client.post(f"{base}/reviews", json=body, headers=rita).status_code in (200, 201)
    assert client.get(f"{base}/media?reviewed=no", headers=rita).get_json()["total"] == 3
