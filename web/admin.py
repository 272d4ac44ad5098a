"""The sysadmins' page: queue, model servers, recent jobs with cancel and requeue, disk usage.

Open to a logged-in site admin, or behind HTTP Basic authentication against a password hash
from the settings (TRAPLINE_ADMIN_PASSWORD_HASH, for sites without accounts); with neither the
page does not exist. Make a hash with
`python -m web.admin hash-password`. Serve it over TLS only (nginx does).
"""

from __future__ import annotations

import getpass
import hmac
import shutil
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from shared.contract import JobStatus, TransitionRefused, enqueue_job, job_queue
from shared.job_index import recent_states
from shared.leases import has_lease
from shared.model_servers import live_servers
from shared.people import resets, users
from shared.people.errors import PeopleError
from shared.people.projects import all_projects, places_of, project_by_id, put_job
from web import job_status, resources
from web.access import now, signed_in
from web.audit_trail import note
from web.errors import Refusal, error_response, refusal_response
from web.security import RateLimited, check_login_failures

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.after_request
def no_store(response: Response) -> Response:
    """The admin's pages hold other people's jobs and emails: no cache keeps them."""
    response.headers["Cache-Control"] = "no-store"
    return response


RECENT = 100


def _login_ok(auth: Any) -> bool:
    """Both checks always run, so a right user name with a wrong password takes as long as a
    wrong user name: the timing says nothing about which user names exist."""
    settings = resources.settings()
    user_ok = hmac.compare_digest((auth.username or "").encode(), settings.admin_user.encode())
    password_ok = check_password_hash(settings.admin_password_hash, auth.password or "")
    return user_ok and password_ok


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = signed_in()
        if user is not None and user.site_admin:
            return view(*args, **kwargs)
        settings = resources.settings()
        if not settings.admin_password_hash:
            abort(404)
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            try:
                check_login_failures(auth.username or "", count=False)
                if _login_ok(auth):
                    return view(*args, **kwargs)
                check_login_failures(auth.username or "", count=True)
            except RateLimited as exc:
                return refusal_response(exc)
        return Response(
            "Authentication required.",
            401,
            {"WWW-Authenticate": 'Basic realm="Trapline admin", charset="UTF-8"'},
        )

    return wrapped


def _folder_bytes(path: Any) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@bp.get("/")
@admin_required
def dashboard() -> Any:
    r = resources.redis()
    store = resources.storage()
    states = recent_states(r, RECENT)
    servers = live_servers(r)
    disk = shutil.disk_usage(store.root)
    engine = resources.results_store()
    projects = all_projects(engine)
    return render_template(
        "admin.html",
        jobs=states,
        places=places_of(engine, [s.id for s in states]),
        projects=projects,
        project_names={p.id: p.name for p in projects},
        users=users.all_users(engine),
        servers=servers,
        queue_length=job_queue(r).count,
        disk=disk,
        uploads_bytes=_folder_bytes(store.uploads_root),
        results_bytes=_folder_bytes(store.results_root),
        human=job_status.human_size,
    )


@bp.post("/jobs/<job_id>/cancel")
@admin_required
def cancel(job_id: str) -> Any:
    job_status.cancel_job(job_status.job_or_404(job_id))
    return redirect(url_for("admin.dashboard"), code=303)


@bp.post("/jobs/<job_id>/requeue")
@admin_required
def requeue(job_id: str) -> Any:
    """Runs a failed, cancelled or stuck job again from its kept upload (and checkpoint)."""
    state = job_status.job_or_404(job_id)
    r = resources.redis()
    if has_lease(r, job_id):
        return error_response(
            409,
            "This job is running on a model server right now (its lease "
            "is live), so it cannot be queued a second time. Cancel it first, "
            "or wait: if its model server died, the job is requeued by itself "
            "once the lease lapses.",
        )
    if not resources.storage().upload_files(job_id):
        return error_response(
            409,
            "This job's upload is gone from the server (removed when the "
            "job ended, or by the cleanup), so there is nothing to run again. "
            "The researcher has to upload the photos again.",
        )
    state.error, state.finished_at = "", None
    try:
        enqueue_job(
            r,
            state,
            at_front=True,
            allowed=(JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PROCESSING),
        )
    except TransitionRefused as exc:
        raise Refusal(f"This job cannot be requeued: {exc}.", 409) from exc
    return redirect(url_for("admin.dashboard"), code=303)


@bp.post("/jobs/<job_id>/move")
@admin_required
def move(job_id: str) -> Any:
    """Puts a job (an open upload from the Inbox, or one of another project) into a project.
    In a team's project its capability link stops working for everyone but the members."""
    state = job_status.job_or_404(job_id)
    raw = request.form.get("project", "")
    project = project_by_id(resources.results_store(), int(raw)) if raw.isdigit() else None
    if project is None:
        raise Refusal(
            "Choose a project to move the job into.", 404, page=url_for("admin.dashboard")
        )
    put_job(resources.results_store(), state.id, project.id, uploader_id=None, now=now())
    note(project.id, "upload:moved-in", {"job": state.id})
    flash(f"Job {state.id[:8]} is now in {project.name}.", "ok")
    return redirect(url_for("admin.dashboard"), code=303)


def _reset_link(user: users.User) -> str:
    code = resets.issue_reset(resources.results_store(), user.id, now=now())
    return url_for("accounts.reset", code=code, _external=True)


@bp.post("/users")
@admin_required
def create_user() -> Any:
    """A new account with no password: the admin passes on the one-time link shown."""
    form = request.form
    try:
        user = users.create_user(
            resources.results_store(),
            form.get("name", ""),
            form.get("email", ""),
            None,
            now=now(),
            site_admin=form.get("site_admin") == "on",
        )
    except PeopleError as exc:
        raise Refusal(str(exc), page=url_for("admin.dashboard")) from None
    flash(
        f"{user.name} made. Send them this one-time link to set a password: {_reset_link(user)}",
        "ok",
    )
    return redirect(url_for("admin.dashboard"), code=303)


@bp.post("/users/<int:user_id>/reset")
@admin_required
def reset_user(user_id: int) -> Any:
    user = users.user_by_id(resources.results_store(), user_id)
    if user is None:
        abort(404)
    flash(f"One-time link for {user.name} (valid 3 days): {_reset_link(user)}", "ok")
    return redirect(url_for("admin.dashboard"), code=303)


def main(argv: list[str] | None = None, ask: Callable[[str], str] = getpass.getpass) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args != ["hash-password"]:
        print("usage: python -m web.admin hash-password", file=sys.stderr)
        return 2
    password = ask("Admin password: ")
    if len(password) < 12 or password != ask("Again: "):
        print("Passwords differ or are shorter than 12 characters.", file=sys.stderr)
        return 1
    # The hash holds `$` signs: single quotes keep them literal in the env file, which both
    # systemd's EnvironmentFile and a shell's `source` read the same way.
    print(f"TRAPLINE_ADMIN_PASSWORD_HASH='{generate_password_hash(password)}'")
    print("Paste that line, quotes included, into /etc/trapline/trapline.env.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
