"""CSRF, the API key, rate limits, security headers, cookies and the admin page."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from shared.contract import JobStatus, transition
from shared.model_servers import beat
from tests.conftest import open_site, pinned_clock
from tests.processes import state_of
from tests.web.helpers import SCRIPT, csrf_token, form, page_fields, photo, send_chunks, zip_of


def make_client(settings, **overrides):
    return open_site(
        settings.with_overrides(**overrides), {"TRAPLINE_CLOCK": pinned_clock}
    ).test_client()


def test_browser_forms_need_the_csrf_token(client) -> None:
    response = client.post(
        "/upload", data=form(files=[(photo(), "a.jpg")]), content_type="multipart/form-data"
    )
    assert response.status_code == 400 and b"reload the page" in response.data
    chunk = client.post("/upload/chunk", data={"dzuuid": "x"}, content_type="multipart/form-data")
    assert chunk.status_code == 400
    job_cancel = client.post(f"/jobs/{'A' * 32}/cancel")
    assert job_cancel.status_code == 400


def test_api_key_guards_changes_when_configured(settings, redis_conn) -> None:
    client = make_client(settings, api_key="s3cret-key")
    data = lambda: form(files=[(photo(), "a.jpg")])
    unkeyed = client.post("/api/jobs", data=data(), content_type="multipart/form-data")
    assert unkeyed.status_code == 400  # neither the page's token nor a key: told what to send
    assert "send X-API-Key" in unkeyed.get_json()["error"]
    assert "expired" not in unkeyed.get_json()["error"]
    wrong = client.post(
        "/api/jobs", data=data(), headers={"X-API-Key": "nope"}, content_type="multipart/form-data"
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/api/jobs",
        data=data(),
        headers={"X-API-Key": "s3cret-key"},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 201
    job_id = ok.get_json()["id"]
    assert client.get(f"/api/jobs/{job_id}").status_code == 200  # the id is the capability
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 400  # no key, no token
    assert client.post(f"/api/jobs/{job_id}/cancel", headers=SCRIPT).status_code == 401  # wrong
    assert (
        client.post(f"/api/jobs/{job_id}/cancel", headers={"X-API-Key": "s3cret-key"}).status_code
        == 200
    )


def test_rate_limit_per_address(settings, redis_conn) -> None:
    client = make_client(settings, uploads_per_hour_per_ip=2)
    codes = []
    for i in range(3):
        response = client.post(
            "/api/jobs",
            data=form(email=f"r{i}@example.org", files=[(photo(), "a.jpg")]),
            content_type="multipart/form-data",
            headers=SCRIPT,
        )
        codes.append(response.status_code)
    assert codes == [201, 201, 429]
    assert "Too many uploads from this address" in response.get_json()["error"]
    assert 0 < int(response.headers["Retry-After"]) <= 3601
    other = client.post(
        "/api/jobs",
        data=form(email="x@example.org", files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
        headers=SCRIPT,
    )
    assert other.status_code == 201  # another client is not affected


def test_rate_limit_per_email_across_addresses(settings, redis_conn) -> None:
    client = make_client(settings, uploads_per_hour_per_email=1)
    first = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
        headers=SCRIPT,
    )
    second = client.post(
        "/api/jobs",
        data=form(email="RANGER@example.org", files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers=SCRIPT,
    )
    assert (first.status_code, second.status_code) == (201, 429)
    assert "this email address" in second.get_json()["error"]


@pytest.mark.parametrize(
    "path", ["/", "/healthz", f"/jobs/{'A' * 32}", "/nothing-here", "/api/jobs/x"]
)
def test_security_headers_on_every_page(client, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script(client) -> None:
    import re

    page = client.get("/").get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


def test_session_cookie_flags(settings, redis_conn) -> None:
    plain = make_client(settings)
    plain.get("/")
    cookie = plain.get_cookie("session")
    assert cookie is not None and cookie.http_only and not cookie.secure
    production = make_client(settings, production=True, secret_key="x" * 40)
    production.get("/")
    assert production.get_cookie("session").secure
    assert "max-age" in production.get("/").headers["Strict-Transport-Security"]


HOSTILE = "<img src=x onerror=alert(1)>.jpg"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;.jpg"


def test_hostile_file_names_are_shown_escaped_on_job_and_results_pages(client, run_worker) -> None:
    """A zip entry named like markup, unreadable so the finished job's page names it among the
    files that failed, and one readable photo beside it."""
    upload = zip_of({HOSTILE: b"not a photo at all", "ok.jpg": photo()})
    job_id = client.post(
        "/api/jobs",
        data=form(files=[(upload, "card.zip")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    queued = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["status"] == "finished"
    assert [f["file"] for f in status["summary"]["failures"]] == [HOSTILE]
    finished = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert ESCAPED in finished  # the name is on the page, as text
    for page in (queued, finished):
        assert "<img src=x" not in page and "onerror=alert(1)>" not in page


def test_hostile_file_names_are_shown_escaped_in_the_upload_list(client) -> None:
    fields = page_fields(client)
    assert send_chunks(client, fields, photo(), HOSTILE).status_code == 200
    page = client.post(
        "/upload", data={"email": "bad", **fields}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert ESCAPED in page and "<img src=x" not in page


ADMIN_PASSWORD = "correct horse battery"


@pytest.fixture
def admin(settings, redis_conn):
    client = make_client(settings, admin_password_hash=generate_password_hash(ADMIN_PASSWORD))
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    return client, {"Authorization": f"Basic {auth}"}


def test_admin_page_needs_the_password(admin, settings, redis_conn) -> None:
    client, headers = admin
    assert client.get("/admin/").status_code == 401
    bad = base64.b64encode(b"admin:guess").decode()
    assert client.get("/admin/", headers={"Authorization": f"Basic {bad}"}).status_code == 401
    assert client.get("/admin/", headers=headers).status_code == 200
    assert make_client(settings).get("/admin/").status_code == 404  # no hash configured: no page


def test_admin_pages_are_never_cached(admin) -> None:
    """Issue 33, item 17: the admin's pages (other people's jobs and emails) say no-store, the
    password prompt too."""
    client, headers = admin
    asked: list[dict[str, str]] = [{}, headers]
    for sent in asked:
        with client.get("/admin/", headers=sent) as page:
            assert page.headers["Cache-Control"] == "no-store", page.status_code


def test_a_wrong_method_says_which_are_allowed(client) -> None:
    """Issue 33, item 17: a 405 carries Allow, as HTTP asks, for scripts and pages alike."""
    for accept in ("application/json", "text/html"):
        with client.get(f"/api/jobs/{'A' * 32}/threshold", headers={"Accept": accept}) as sent:
            assert sent.status_code == 405
            assert set(sent.headers["Allow"].split(", ")) >= {"POST"}


def test_admin_sees_queue_and_can_cancel_and_requeue(admin, redis_conn) -> None:
    client, headers = admin
    job_id = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    beat(redis_conn, "box-1", "MegaDetector v4.1.0")
    page = client.get("/admin/", headers=headers).get_data(as_text=True)
    assert job_id[:8] in page and 'id="queue-length">1<' in page and "box-1" in page
    assert "ranger@example.org" in page and "free of" in page
    token = csrf_token(client)
    done = client.post(f"/admin/jobs/{job_id}/cancel", headers=headers, data={"csrf_token": token})
    assert done.status_code == 303 and state_of(redis_conn, job_id).status is JobStatus.CANCELLED


def test_admin_requeues_a_failed_job(admin, redis_conn, run_worker) -> None:
    client, headers = admin
    job_id = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    state = state_of(redis_conn, job_id)
    transition(redis_conn, state.id, JobStatus, status=JobStatus.FAILED, error="the disk was full")
    redis_conn.delete("rq:queue:trapline")
    response = client.post(
        f"/admin/jobs/{job_id}/requeue", headers=headers, data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    assert state_of(redis_conn, job_id).status is JobStatus.QUEUED
    run_worker()
    assert state_of(redis_conn, job_id).status is JobStatus.FINISHED


def test_admin_password_setting_must_be_a_hash() -> None:
    from shared.errors import SettingsError
    from shared.settings import Settings

    with pytest.raises(SettingsError, match="never the password itself"):
        Settings.from_env({"TRAPLINE_ADMIN_PASSWORD_HASH": "hunter2"})


def test_admin_requeue_refuses_a_job_whose_lease_is_live(admin, redis_conn) -> None:
    """Two model servers writing one job's results is how batches get corrupted."""
    client, headers = admin
    job_id = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    transition(redis_conn, job_id, JobStatus, status=JobStatus.PROCESSING)
    redis_conn.set(f"trapline:lease:{job_id}", "host-1-abc#1", ex=30)
    response = client.post(
        f"/admin/jobs/{job_id}/requeue", headers=headers, data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 409
    assert "running on a model server right now" in response.get_data(as_text=True)
    assert state_of(redis_conn, job_id).attempt == 1  # nothing was queued


def test_admin_requeue_says_when_the_upload_is_gone(admin, redis_conn, settings) -> None:
    from shared.storage import Storage

    client, headers = admin
    job_id = client.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]
    transition(redis_conn, job_id, JobStatus, status=JobStatus.FAILED)
    Storage(settings.data_dir).remove_job_files(job_id)
    response = client.post(
        f"/admin/jobs/{job_id}/requeue", headers=headers, data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 409
    assert "upload is gone from the server" in response.get_data(as_text=True)


def test_failed_admin_logins_are_throttled_per_address(admin) -> None:
    client, headers = admin
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}
    for _ in range(10):
        assert client.get("/admin/", headers=wrong).status_code == 401
    refused = client.get("/admin/", headers=headers)  # even the right password, for a while
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    other = client.get("/admin/", headers=headers, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 429  # the user name waits too, from any address: a second


def test_failed_admin_logins_are_throttled_per_user_across_addresses(admin) -> None:
    client, _ = admin
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}
    for i in range(10):
        client.get("/admin/", headers=wrong, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
    assert (
        client.get("/admin/", headers=wrong, environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code
        == 429
    )


def test_guesses_from_many_addresses_never_lock_the_admin_out(settings, redis_conn) -> None:
    """Issue 33, item 14: wrong passwords for the admin from one address after another slow the
    user name down (a back-off from the last failure, doubling, at most a minute) but the
    admin, from their own address, gets in once that minute has passed, not after 15."""
    now = [1_800_000_030.0]
    client = open_site(
        settings.with_overrides(admin_password_hash=generate_password_hash(ADMIN_PASSWORD)),
        {"TRAPLINE_CLOCK": lambda: now[0]},
    ).test_client()
    right = {
        "Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    }
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}
    attacker = iter(f"10.0.{i // 250}.{i % 250}" for i in range(10_000))

    def guess() -> Any:
        return client.get("/admin/", headers=wrong, environ_base={"REMOTE_ADDR": next(attacker)})

    assert [guess().status_code for _ in range(10)] == [401] * 10
    waits = []
    for _ in range(12):  # the attacker tries again as soon as it may
        refused = guess()
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        now[0] += waits[-1]
        assert guess().status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]  # at most a minute
    home = {"REMOTE_ADDR": "192.0.2.10"}
    assert client.get("/admin/", headers=right, environ_base=home).status_code == 429
    now[0] += 60
    assert client.get("/admin/", headers=right, environ_base=home).status_code == 200


def test_a_wrong_user_name_costs_the_same_password_check(admin, monkeypatch) -> None:
    """The password hash is checked whatever the user name, so timing cannot tell a right user
    name from a wrong one (it took 2 ms against 228 ms before)."""
    from web import admin as admin_module

    client, _ = admin
    calls: list[str] = []
    real = admin_module.check_password_hash

    def counted(hashed: str, password: str) -> bool:
        calls.append(password)
        return real(hashed, password)

    monkeypatch.setattr(admin_module, "check_password_hash", counted)
    for user in ("nobody", "admin"):
        auth = base64.b64encode(f"{user}:guess".encode()).decode()
        assert client.get("/admin/", headers={"Authorization": f"Basic {auth}"}).status_code == 401
    assert calls == ["guess", "guess"]


def test_with_an_api_key_the_form_routes_need_the_pages_session(settings, redis_conn) -> None:
    """Scripts use the API and its key; the browser forms need a session that loaded the page
    (its draft) and its CSRF token, so they are no way around the key."""
    keyed = make_client(settings, api_key="k" * 32)
    script = make_client(settings, api_key="k" * 32)  # never loaded a page
    fields = page_fields(keyed)
    forged = script.post(
        "/upload",
        data={**form(files=[(photo(), "a.jpg")]), **fields},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400  # a token from another session is worthless here
    job = keyed.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert job.status_code == 401  # a key, but not the site's
    job_id = keyed.post(
        "/api/jobs",
        data=form(files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers={"X-API-Key": "k" * 32},
    ).get_json()["id"]
    assert script.post(f"/jobs/{job_id}/cancel").status_code == 400  # no CSRF token
    assert script.post(f"/api/jobs/{job_id}/cancel").status_code == 400  # no key, no token
    assert script.post(f"/api/jobs/{job_id}/cancel", headers=SCRIPT).status_code == 401


def test_a_file_name_that_is_not_utf8_is_named_as_the_problem(client) -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="email"\r\n\r\nana@example.org\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="files"; filename="caf\xe9.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + photo() + b"\r\n--XX--\r\n"
    )
    for path in ("/api/jobs", "/upload"):
        response = client.post(
            path,
            data=body,
            content_type="multipart/form-data; boundary=XX",
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400, path
        message = response.get_json()["error"]
        assert "a file name is not UTF-8 text" in message and "email" not in message


def test_login_failures_are_counted_in_windows_of_the_apps_clock(settings, redis_conn) -> None:
    """The count lives in fixed 15-minute windows of the site's clock: ten failures just before
    a window ends do not carry into the next one (why the tests pin the clock)."""
    now = [900.0 * 2_000_000 - 1]  # the last second of a window
    client = open_site(
        settings.with_overrides(admin_password_hash=generate_password_hash(ADMIN_PASSWORD)),
        {"TRAPLINE_CLOCK": lambda: now[0]},
    ).test_client()
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}
    for _ in range(10):
        client.get("/admin/", headers=wrong)
    refused = client.get("/admin/", headers=wrong)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    now[0] += 1  # the next window
    assert client.get("/admin/", headers=wrong).status_code == 401
