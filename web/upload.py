"""The upload page: Dropzone sends files in chunks into a per-browser draft folder; the form
then turns the draft (plus any files sent the plain-HTML way) into one job."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError

from shared.contract import MODEL_SERVER_PREFIX, NOTICE_KEY
from web import services
from web.errors import error_response
from web.security import RateLimited, check_upload_rate, rate_limited_response
from web.services import QueueUnavailable, UploadRefused

bp = Blueprint("upload", __name__)
DZ_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _draft_dir() -> Path:
    draft = session.get("draft")
    if not draft or not isinstance(draft, str):
        draft = secrets.token_urlsafe(24)
        session["draft"] = draft
    return services.storage().draft_dir(draft)


def model_notice() -> str | None:
    """Shown on the page while no model server is live, so nobody waits unknowingly."""
    try:
        r = services.redis()
        if any(True for _ in r.scan_iter(MODEL_SERVER_PREFIX + "*", count=100)):
            return None
        notice = r.get(NOTICE_KEY)
    except RedisError:
        return None  # the page still works; /healthz and the admin page say Redis is down
    if notice:
        return ("No detector model is installed on the model server yet, so jobs wait in the "
                "queue. Administrators: see `trapline-models download` in the README.")
    return "No model server is running right now; jobs wait in the queue until one starts."


def _drafted_files(folder: Path) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    return [{"name": p.name, "size": p.stat().st_size} for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.endswith(".part")]


def _page(folder: Path, **extra: Any) -> str:
    limit = services.settings().max_upload_bytes
    return render_template("upload.html", notice=model_notice(), drafted=_drafted_files(folder),
                           chunk_bytes=current_app.config["CHUNK_BYTES"],
                           max_mb=limit // (1024 * 1024), max_size=services.human_size(limit),
                           **extra)


@bp.get("/")
def index() -> Any:
    return _page(_draft_dir())


@bp.post("/upload/chunk")
def chunk() -> Any:
    """One Dropzone chunk, written at its offset; the last one names the finished file."""
    form, upload = request.form, request.files.get("file")
    uuid = form.get("dzuuid", "")
    if upload is None or not DZ_UUID.match(uuid):
        return jsonify(error="not a Dropzone chunk"), 400
    try:
        index, total = int(form["dzchunkindex"]), int(form["dztotalchunkcount"])
        offset, size = int(form["dzchunkbyteoffset"]), int(form["dztotalfilesize"])
    except (KeyError, ValueError):
        return jsonify(error="chunk fields missing"), 400
    folder = _draft_dir()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        services.safe_name(upload.filename or "", folder)  # refuse wrong types on chunk one
    except UploadRefused as exc:
        return jsonify(error=str(exc)), exc.status
    limit = services.settings().max_upload_bytes
    # the folder is summed once per file (on its first chunk), not on every chunk
    too_big = index == 0 and sum(f["size"] for f in _drafted_files(folder)) + size > limit
    if size > limit or offset + 1 > max(size, 1) or too_big:
        return jsonify(error="The upload is larger than this site accepts."), 413
    part = folder / f"{uuid}.part"
    with part.open("r+b" if part.exists() else "wb") as fh:
        fh.seek(offset)
        while block := upload.stream.read(1 << 20):
            fh.write(block)
    if index == total - 1:
        if part.stat().st_size != size:
            part.unlink()
            return jsonify(error="The upload was incomplete; please drop the file again."), 400
        part.rename(folder / services.safe_name(upload.filename or "", folder))
    return jsonify(ok=True)


@bp.post("/upload")
def submit() -> Any:
    """The form: an email, the draft's files and any files posted with the form itself."""
    folder = _draft_dir()
    try:
        email = services.clean_email(request.form.get("email"))
        check_upload_rate(email)
        services.save_files(request.files.getlist("files"), folder)
        staged = [folder / f["name"] for f in _drafted_files(folder)]
        if not staged:
            raise UploadRefused("Please add a zip or some images before submitting.")
        state = services.create_job(staged, email)
    except UploadRefused as exc:
        return _page(folder, error=str(exc), email=request.form.get("email", "")), exc.status
    except RateLimited as exc:
        return rate_limited_response(exc)
    except QueueUnavailable as exc:
        session.pop("draft", None)
        link = url_for("jobs.page", job_id=exc.state.id, _external=True)
        return error_response(503, f"{exc.message} Your job's link: {link}")
    services.discard(folder)
    session.pop("draft", None)
    return redirect(url_for("jobs.page", job_id=state.id), code=303)
