"""Projects and roles through the site, with a real worker and Redis, on both databases: what
each person may reach, what the API answers, who a review is signed by, the audit log, the
Inbox, and a site that takes uploads from members only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shared.people import tokens
from shared.people.projects import create_project, place_of, set_member
from shared.people.roles import Role
from shared.people.users import User, create_user
from shared.store.schema import reviews
from tests.conftest import open_site, pinned_clock
from tests.web.helpers import SCRIPT, form, photo, zip_of

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


class Team:
    """alice owns P1 (vic views it, ulla uploads to it, rita reviews it); bob owns P2 only."""

    def __init__(self, app) -> None:
        self.store = app.extensions["trapline.store"]
        self.users: dict[str, User] = {
            name: create_user(self.store, name, f"{name}@example.org", PASSWORD, now=NOW)
            for name in ("alice", "bob", "vic", "ulla", "rita")
        }
        self.p1 = create_project(self.store, "P1", self.users["alice"], now=NOW)
        self.p2 = create_project(self.store, "P2", self.users["bob"], now=NOW)
        for name, role in (("vic", Role.VIEWER), ("ulla", Role.UPLOADER), ("rita", Role.REVIEWER)):
            set_member(self.store, self.p1.id, self.users[name], role, now=NOW)
        self.tokens = {
            name: tokens.create_token(self.store, user.id, "tests", now=NOW)[0]
            for name, user in self.users.items()
        }

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def upload(client, headers: dict[str, str], project: int | None, n: int = 3) -> str:
    data = form(files=[(zip_of({f"cam1/{i}.jpg": photo(i) for i in range(n)}), "card.zip")])
    if project is not None:
        data["project"] = str(project)
    response = client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def job_urls(app, job_id: str, media_id: int, thumbnail: str, box_id: int) -> list[tuple[str, str]]:
    """Every (method, URL) of the site that names a job, made from the app's own routes, so a
    route added later is checked too."""
    values = {"job_id": job_id, "media_id": media_id, "name": thumbnail, "box_id": box_id}
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "job_id" not in rule.arguments or rule.endpoint.startswith("admin."):
                continue
            url = app.url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((method, url.replace("http://trapline.test", "")))
    return found


def call(client, method: str, url: str, headers: dict[str, str]):
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, json={}, headers=headers)


@BOTH
def test_only_members_reach_a_private_projects_job(app, client, team, run_worker) -> None:
    job_id = upload(client, team.auth("alice"), team.p1.id)
    run_worker()
    alice = team.auth("alice")
    body = client.get(f"/api/jobs/{job_id}/media?per_page=10", headers=alice).get_json()
    item = body["media"][0]
    thumbnail = item["thumbnail_url"].rsplit("/", 1)[-1]
    urls = job_urls(app, job_id, item["id"], thumbnail, item["detections"][0]["id"])
    assert len(urls) >= 20  # pages, thumbnails, charts, media, reviews, events, exports...
    for method, url in urls:
        assert call(client, method, url, team.auth("bob")).status_code == 404, (method, url)
        anonymous = call(client, method, url, SCRIPT if method == "POST" else {})
        assert anonymous.status_code in (401, 302), (method, url, anonymous.status_code)
    # a page sends a person to the login form, the API says 401
    page = client.get(f"/jobs/{job_id}", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    assert client.get(f"/api/jobs/{job_id}").status_code == 401
    for url in (f"/jobs/{job_id}", f"/api/jobs/{job_id}/summary", f"/download/{job_id}"):
        for who in ("alice", "vic"):
            with client.get(url, headers=team.auth(who)) as response:
                assert response.status_code == 200, (who, url)


@BOTH
def test_each_role_does_what_it_may(client, team, run_worker) -> None:
    job_id = upload(client, team.auth("alice"), team.p1.id)
    own = upload(client, team.auth("ulla"), team.p1.id)
    run_worker()
    alice = team.auth("alice")
    item = client.get(f"/api/jobs/{job_id}/media", headers=alice).get_json()["media"][0]
    accept = {"action": "accept", "media_id": item["id"], "reviewer": "typed"}
    review = f"/api/jobs/{job_id}/reviews"
    assert client.post(review, json=accept, headers=team.auth("vic")).status_code == 403
    assert client.post(review, json=accept, headers=team.auth("ulla")).status_code == 404
    assert client.get(f"/api/jobs/{own}", headers=team.auth("ulla")).status_code == 200
    assert client.get(f"/api/jobs/{own}", headers=team.auth("vic")).status_code == 200
    assert client.post(review, json=accept, headers=team.auth("rita")).status_code == 201
    assert client.post(f"/api/jobs/{own}/cancel", headers=team.auth("rita")).status_code == 403
    # an uploader's own upload, and another's, into a project they do not belong to
    cancelled = client.post(f"/api/jobs/{own}/cancel", headers=team.auth("ulla"))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "finished"
    refused = client.post(
        "/api/jobs",
        data={**form(files=[(photo(), "a.jpg")]), "project": str(team.p2.id)},
        content_type="multipart/form-data",
        headers=team.auth("ulla"),
    )
    assert refused.status_code == 404
    viewer_upload = client.post(
        "/api/jobs",
        data={**form(files=[(photo(), "a.jpg")]), "project": str(team.p1.id)},
        content_type="multipart/form-data",
        headers=team.auth("vic"),
    )
    assert viewer_upload.status_code == 403


@BOTH
def test_a_review_is_signed_by_the_account_and_logged(client, team, run_worker) -> None:
    job_id = upload(client, team.auth("alice"), team.p1.id)
    run_worker()
    rita = team.auth("rita")
    item = client.get(f"/api/jobs/{job_id}/media", headers=rita).get_json()["media"][0]
    body = {"action": "accept", "media_id": item["id"], "reviewer": "somebody else"}
    done = client.post(f"/api/jobs/{job_id}/reviews", json=body, headers=rita)
    assert done.status_code == 201
    assert done.get_json()["media"]["reviewer"] == "rita"
    with team.store.connect() as conn:
        row = conn.execute(select(reviews.c.reviewer, reviews.c.user_id)).one()
    assert tuple(row) == ("rita", team.users["rita"].id)
    entries = client.get(f"/api/projects/{team.p1.id}/audit", headers=rita).get_json()["entries"]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("rita", "review:accept"),
        ("alice", "upload"),
    ]
    assert entries[1]["detail"] == {"job": job_id, "files": 3}
    assert (
        client.get(f"/api/projects/{team.p1.id}/audit", headers=team.auth("bob")).status_code == 404
    )


def test_the_projects_api(client, team) -> None:
    alice, bob = team.auth("alice"), team.auth("bob")
    assert client.get("/api/projects").status_code == 401
    assert client.post("/api/projects", json={"name": "x"}, headers=SCRIPT).status_code == 401
    made = client.post(
        "/api/projects", json={"name": "Season 2", "utc_offset": "+03:00"}, headers=bob
    )
    assert made.status_code == 201
    assert made.get_json()["role"] == "owner" and made.get_json()["utc_offset"] == "+03:00"
    assert [p["name"] for p in client.get("/api/projects", headers=bob).get_json()["projects"]] == [
        "P2",
        "Season 2",
    ]
    p1 = f"/api/projects/{team.p1.id}"
    assert client.get(p1, headers=bob).status_code == 404
    assert client.get(p1, headers=alice).get_json()["role"] == "owner"
    add = client.post(f"{p1}/members", json={"user": "bob", "role": "viewer"}, headers=alice)
    assert add.status_code == 201
    assert client.get(p1, headers=bob).get_json()["role"] == "viewer"
    again = client.post(f"{p1}/members", json={"user": "bob", "role": "reviewer"}, headers=alice)
    assert again.status_code == 200
    assert (
        client.post(f"{p1}/members", json={"user": "vic", "role": "owner"}, headers=bob).status_code
        == 403
    )
    assert (
        client.post(
            f"{p1}/members", json={"user": "nobody", "role": "viewer"}, headers=alice
        ).status_code
        == 404
    )
    bad_role = client.post(f"{p1}/members", json={"user": "vic", "role": "boss"}, headers=alice)
    assert bad_role.status_code == 400 and "owner, reviewer" in bad_role.get_json()["error"]
    members = client.get(f"{p1}/members", headers=bob).get_json()["members"]
    assert {m["user"]: m["role"] for m in members}["bob"] == "reviewer"


def test_a_revoked_or_wrong_token_is_refused(client, team) -> None:
    assert (
        client.get("/api/projects", headers={"Authorization": "Bearer trp_nope"}).status_code == 401
    )
    token_id = tokens.tokens_of(team.store, team.users["alice"].id)[0].id
    tokens.revoke_token(team.store, team.users["alice"].id, token_id, now=NOW)
    refused = client.get("/api/projects", headers=team.auth("alice"))
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]


def test_an_open_upload_is_in_the_inbox_until_a_site_admin_moves_it(app, client, team) -> None:
    job_id = upload(client, SCRIPT, None)
    assert place_of(team.store, job_id).project_id is None
    assert client.get(f"/api/jobs/{job_id}").status_code == 200  # its link is its key
    root = create_user(team.store, "root", "root@example.org", PASSWORD, now=NOW, site_admin=True)
    root_token = tokens.create_token(team.store, root.id, "admin", now=NOW)[0]
    admin = {"Authorization": f"Bearer {root_token}"}
    page = client.get("/admin/", headers=admin)
    assert page.status_code == 200 and "Inbox" in page.get_data(as_text=True)
    moved = client.post(f"/admin/jobs/{job_id}/move", data={"project": team.p1.id}, headers=admin)
    assert moved.status_code == 303
    assert client.get(f"/api/jobs/{job_id}").status_code == 401
    assert client.get(f"/api/jobs/{job_id}", headers=team.auth("bob")).status_code == 404
    assert client.get(f"/api/jobs/{job_id}", headers=team.auth("alice")).status_code == 200
    assert client.get("/admin/", headers=team.auth("alice")).status_code == 404  # not for her


def test_a_members_only_site_refuses_open_uploads(settings, redis_conn) -> None:
    app = open_site(settings.with_overrides(open_uploads=False), {"TRAPLINE_CLOCK": pinned_clock})
    client = app.test_client()
    team = Team(app)
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302
    anonymous = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert anonymous.status_code == 401 and "members only" in anonymous.get_json()["error"]
    no_project = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=team.auth("alice"),
    )
    assert no_project.status_code == 400
    job_id = upload(client, team.auth("alice"), team.p1.id, n=1)
    assert place_of(team.store, job_id).project_id == team.p1.id
    page = client.get("/", headers=team.auth("alice")).get_data(as_text=True)
    assert re.search(rf'<option value="{team.p1.id}"[^>]*>P1</option>', page)
    # alice may not upload into bob's project (only an option names it: a random CSRF token
    # may hold the letters "P2")
    assert not re.search(r"<option[^>]*>P2</option>", page)
