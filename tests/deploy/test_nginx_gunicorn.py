"""Real nginx (Debian's, as a plain process) in front of real gunicorn, with the repo's config:
upload through it, download the zip through it byte for byte via X-Accel-Redirect."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, free_port
from tests.deploy.gunicorn import gunicorn, gunicorn_env, serving
from tests.web.helpers import SCRIPT, photo, zip_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="run scripts/setup.sh --test"),
]


@pytest.fixture
def stack(settings, redis_conn, tmp_path: Path):
    """gunicorn (the repo's config) and nginx (the repo's server block) on free ports."""
    sys.path.insert(0, str(REPO / "scripts"))
    from render_nginx import render

    env = gunicorn_env(
        settings,
        tmp_path,
        TRAPLINE_BEHIND_PROXY="true",
        TRAPLINE_ACCEL_REDIRECT_PREFIX="/_protected_results/",
    )
    web_port = free_port()
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    server = render(
        data_dir=settings.data_dir,
        listen=f"127.0.0.1:{web_port}",
        upstream=env["GUNICORN_BIND"],
        max_body="64m",
    )
    # The test runs as its own user: nginx workers must read the result files (PITFALLS.md).
    (prefix / "nginx.conf").write_text(f"""
user {getpass.getuser()};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    {server}
}}""")
    with gunicorn(env, tmp_path / "gunicorn.log"):
        nginx = subprocess.Popen(
            ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with serving(nginx, f"http://127.0.0.1:{web_port}", "nginx") as base:
            yield base


def test_upload_and_download_through_nginx(stack: str, run_worker, settings) -> None:
    big = zip_of(
        {f"cam/{i}.jpg": photo(i) for i in range(3)} | {"padding.bin": os.urandom(3_000_000)}
    )
    response = requests.post(
        stack + "/api/jobs",
        data={"email": "r@example.org"},
        files={"files": ("card.zip", big, "application/zip")},
        timeout=30,
        headers=SCRIPT,
    )
    assert response.status_code == 201, response.text  # over nginx's 1 MB default limit
    created = response.json()
    assert created["status_url"].startswith(stack)  # absolute links built behind the proxy
    run_worker()
    download = requests.get(created["download_url"], timeout=30)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/zip"
    assert (
        download.headers["Content-Disposition"]
        == f'attachment; filename="trapline-{created["id"][:8]}.zip"'
    )
    on_disk = (settings.data_dir / "results" / f"{created['id']}.zip").read_bytes()
    assert download.content == on_disk
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_a_projects_export_downloads_through_nginx(stack: str, run_worker, settings) -> None:
    """A project's zip, sent by nginx once the app checked the caller's role."""
    from datetime import UTC, datetime

    from shared.people.projects import create_project, set_member
    from shared.people.roles import Role
    from shared.people.tokens import create_token
    from shared.people.users import create_user
    from shared.store import open_configured_store

    now = datetime(2026, 6, 1, tzinfo=UTC)
    engine = open_configured_store(settings)
    try:
        owner = create_user(engine, "ana", "ana@example.org", None, now=now)
        viewer = create_user(engine, "vic", "vic@example.org", None, now=now)
        project = create_project(engine, "Ridge survey", owner, now=now)
        set_member(engine, project.id, viewer, Role.VIEWER, now=now)
        ana = {"Authorization": f"Bearer {create_token(engine, owner.id, 't', now=now)[0]}"}
        vic = {"Authorization": f"Bearer {create_token(engine, viewer.id, 't', now=now)[0]}"}
    finally:
        engine.dispose()
    card = zip_of({f"cam/{i}.jpg": photo(i) for i in range(3)})
    sent = requests.post(
        stack + "/api/jobs",
        data={"project": str(project.id)},
        files={"files": ("card.zip", card, "application/zip")},
        timeout=30,
        headers=ana,
    )
    assert sent.status_code == 201, sent.text
    run_worker()
    url = f"{stack}/api/projects/{project.id}"
    assert requests.post(f"{url}/exports", headers=ana, timeout=30).status_code == 202
    run_worker()
    download = requests.get(f"{url}/download", headers=vic, timeout=30)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="trapline-ridge-survey-{project.id}.zip"'
    )
    on_disk = settings.data_dir / "results" / "projects" / f"project-{project.id}.zip"
    assert download.content == on_disk.read_bytes()
    assert requests.get(f"{url}/download", timeout=30).status_code == 401
    direct = requests.get(f"{stack}/_protected_results/projects/{on_disk.name}", timeout=30)
    assert direct.status_code == 404  # only through the app's check


def test_internal_location_is_not_reachable(stack: str, run_worker, settings) -> None:
    created = requests.post(
        stack + "/api/jobs",
        data={"email": "r@example.org"},
        files={"files": ("a.jpg", photo(), "image/jpeg")},
        timeout=30,
        headers=SCRIPT,
    ).json()
    run_worker()
    direct = requests.get(f"{stack}/_protected_results/{created['id']}.zip", timeout=10)
    assert direct.status_code == 404


def test_static_files_and_headers_come_from_nginx(stack: str) -> None:
    js = requests.get(stack + "/dropzone/static/dropzone.min.js", timeout=10)
    assert js.status_code == 200 and "Dropzone" in js.text
    css = requests.get(stack + "/static/style.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"] == "text/css"
    page = requests.get(stack + "/", timeout=10)
    assert page.headers["X-Frame-Options"] == "DENY"


def test_too_large_for_nginx_is_413(stack: str) -> None:
    response = requests.post(
        stack + "/api/jobs",
        data={"email": "r@example.org"},
        files={"files": ("big.zip", b"0" * (65 * 1024 * 1024))},
        timeout=60,
        headers=SCRIPT,
    )
    assert response.status_code == 413
