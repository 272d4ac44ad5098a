"""Logging in and out through the site's own forms, with their CSRF tokens: wrong passwords and
their throttle, where a login goes next, a password change that ends the other sessions, API
tokens made on the account page, and a one-time password link."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from shared.people import resets
from shared.people.users import User, create_user
from tests.conftest import pinned_clock
from tests.web.helpers import SCRIPT

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
HTML = {"Accept": "text/html"}


def token_of(client, path: str) -> str:
    page = client.get(path, headers=HTML).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"{path} has no form token"
    return found.group(1)


def log_in(client, name: str, password: str, next_page: str = ""):
    return client.post(
        "/login",
        data={
            "csrf_token": token_of(client, "/login"),
            "name": name,
            "password": password,
            "next": next_page,
        },
        headers=HTML,
    )


def alice(app) -> User:
    store = app.extensions["trapline.store"]
    return create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)


def test_logging_in_and_out(app, client) -> None:
    alice(app)
    assert client.get("/account", headers=HTML).headers["Location"].startswith("/login?next=")
    wrong = log_in(client, "alice", "not her password")
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    done = log_in(client, "alice", PASSWORD, next_page="/account")
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    page = client.get("/account", headers=HTML).get_data(as_text=True)
    assert "alice@example.org" in page and "Log out" in page
    out = client.post("/logout", data={"csrf_token": token_of(client, "/account")}, headers=HTML)
    assert out.status_code == 303
    assert client.get("/account", headers=HTML).status_code == 302


def test_a_login_form_needs_its_token_and_never_sends_you_off_site(app, client) -> None:
    alice(app)
    forged = client.post("/login", data={"name": "alice", "password": PASSWORD}, headers=HTML)
    assert forged.status_code == 400
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        done = log_in(client, "alice", PASSWORD, next_page=target)
        assert done.headers["Location"] == "/projects", target


def test_wrong_passwords_are_throttled(app, client) -> None:
    alice(app)
    for _ in range(10):
        assert log_in(client, "alice", "guess guess guess").status_code == 401
    throttled = log_in(client, "alice", PASSWORD)
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers


def test_a_password_change_ends_every_other_session(app) -> None:
    alice(app)
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert log_in(client, "alice", PASSWORD).status_code == 303
    form = {"csrf_token": token_of(here, "/account"), "current": PASSWORD}
    mismatch = here.post(
        "/account/password", data={**form, "new": "x" * 12, "again": "y" * 12}, headers=HTML
    )
    assert mismatch.status_code == 303  # back to the form, which says why
    assert "differ" in here.get("/account", headers=HTML).get_data(as_text=True)
    new = "a brand new passphrase"
    changed = here.post("/account/password", data={**form, "new": new, "again": new}, headers=HTML)
    assert changed.status_code == 303
    assert here.get("/account", headers=HTML).status_code == 200
    assert elsewhere.get("/account", headers=HTML).status_code == 302
    assert log_in(app.test_client(), "alice", PASSWORD).status_code == 401
    assert log_in(app.test_client(), "alice", new).status_code == 303


def test_a_token_made_on_the_account_page_is_shown_once_and_works(app, client) -> None:
    alice(app)
    log_in(client, "alice", PASSWORD)
    made = client.post(
        "/account/tokens",
        data={"csrf_token": token_of(client, "/account"), "name": "nightly sync"},
        headers=HTML,
    )
    assert made.status_code == 201
    token = re.search(r"<code>(trp_[^<]+)</code>", made.get_data(as_text=True))
    assert token
    assert token.group(1) not in client.get("/account", headers=HTML).get_data(as_text=True)
    script = app.test_client()
    listed = script.get("/api/projects", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert listed.status_code == 200 and listed.get_json() == {"projects": []}
    # a token sends no CSRF token: a browser cannot add the header to a cross-site request
    created = script.post(
        "/api/projects", json={"name": "P"}, headers={"Authorization": f"Bearer {token.group(1)}"}
    )
    assert created.status_code == 201
    assert script.post("/api/projects", json={"name": "P"}, headers=SCRIPT).status_code == 401


def test_a_one_time_link_sets_a_password_once(app, client) -> None:
    store = app.extensions["trapline.store"]
    bob = create_user(store, "bob", "bob@example.org", None, now=NOW)
    code = resets.issue_reset(store, bob.id, now=datetime.fromtimestamp(pinned_clock(), UTC))
    page = client.get(f"/reset/{code}", headers=HTML)
    assert page.status_code == 200 and "bob" in page.get_data(as_text=True)
    new = "bob chose this one"
    done = client.post(
        f"/reset/{code}",
        data={"csrf_token": token_of(client, f"/reset/{code}"), "new": new, "again": new},
        headers=HTML,
    )
    assert done.status_code == 303
    assert "bob@example.org" in client.get("/account", headers=HTML).get_data(as_text=True)
    assert client.get(f"/reset/{code}", headers=HTML).status_code == 404
    assert log_in(app.test_client(), "bob", new).status_code == 303
