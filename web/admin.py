"""The sysadmins' page: queue, model servers, recent jobs with cancel and requeue, disk usage.

Behind HTTP Basic authentication against a password hash from the settings
(TRAPLINE_ADMIN_PASSWORD_HASH); without one the page does not exist. Make a hash with
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

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from shared.contract import JobStatus, TransitionRefused, enqueue_job, job_queue
from shared.job_index import recent_states
from shared.leases import has_lease
from shared.model_servers import live_servers
from web import job_status, resources
from web.errors import Refusal, error_response, refusal_response
from web.security import RateLimited, check_login_failures

bp = Blueprint("admin", __name__, url_prefix="/admin")
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
    return render_template(
        "admin.html",
        jobs=states,
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
