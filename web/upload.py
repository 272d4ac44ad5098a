"""The upload page: Dropzone sends files in chunks into this page load's own draft folder; the
form then turns the draft (plus any files sent the plain-HTML way) into one job."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from shared.people.projects import projects_of
from shared.people.roles import Can
from shared.store.class_sets import list_sets
from shared.surveys.locations import locations_of
from web import drafts, intake, job_status, resources
from web.access import login_manager, signed_in
from web.errors import Refusal, error_response
from web.intake import QueueUnavailable
from web.security import (
    RateLimited,
    check_chunk_rate,
    check_upload_rate,
    reserve_draft_bytes,
)

bp = Blueprint("upload", __name__)
DZ_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _page(draft: str, **extra: Any) -> str:
    settings = resources.settings()
    folder = resources.storage().draft_dir(draft)
    return render_template(
        "upload.html",
        notice=job_status.model_notice(),
        draft=draft,
        drafted=drafts.finished_files(folder),
        chunk_bytes=current_app.config["CHUNK_BYTES"],
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        max_size=job_status.human_size(settings.max_upload_bytes),
        sends_email=bool(settings.smtp_host),
        keep_days=settings.results_max_age_days,
        accepted=",".join(sorted(intake.ALLOWED_SUFFIXES)),
        frame_interval=settings.video_frame_interval,
        class_sets=[row.name for row, classes in list_sets(resources.results_store()) if classes],
        projects=_upload_projects(),
        locations=_locations_offered(),
        chosen_project=request.values.get("project", ""),
        open_uploads=settings.open_uploads,
        site_threshold=settings.detection_threshold,
        **extra,
    )


def _upload_projects() -> list[tuple[int, str]]:
    """The projects the logged-in person may upload into (none before logging in)."""
    user = signed_in()
    if user is None:
        return []
    listed = projects_of(resources.results_store(), user)
    return [
        (p.id, p.name)
        for p, role in listed
        if user.site_admin or (role is not None and Can.UPLOAD in role.can)
    ]


def _locations_offered() -> list[str]:
    """The chosen project's location names, offered for the card (the server checks them)."""
    raw = request.values.get("project", "")
    if not raw.isdigit() or int(raw) not in dict(_upload_projects()):
        return []
    return [loc.name for loc in locations_of(resources.results_store(), int(raw))]


def _members_only() -> bool:
    return not resources.settings().open_uploads and signed_in() is None


@bp.get("/")
def index() -> Any:
    if _members_only():
        return login_manager.unauthorized()
    return _page(drafts.open_new())


def _chunk_fields() -> drafts.Chunk:
    form, upload = request.form, request.files.get("file")
    uuid = form.get("dzuuid", "")
    if upload is None or not DZ_UUID.match(uuid):
        raise Refusal("not a Dropzone chunk")
    try:
        return drafts.Chunk(
            uuid=uuid,
            index=int(form["dzchunkindex"]),
            total=int(form["dztotalchunkcount"]),
            offset=int(form["dzchunkbyteoffset"]),
            size=int(form["dztotalfilesize"]),
            filename=upload.filename or "",
            fullpath=form.get("fullpath", ""),
        )
    except (KeyError, ValueError):
        raise Refusal("chunk fields missing") from None


@bp.post("/upload/chunk")
def chunk() -> Any:
    """One Dropzone chunk, written at its offset; the last one names the finished file."""
    store, settings = resources.storage(), resources.settings()
    if _members_only():
        return error_response(401, intake.CLOSED_SITE)
    try:
        fields = _chunk_fields()
        folder = drafts.owned(store, request.form.get("draft", ""))
        intake.safe_name(fields.filename, folder)  # refuse wrong types on chunk one
        if fields.size > settings.max_upload_bytes:
            raise Refusal("The upload is larger than this site accepts.", 413)
        first = (
            fields.index == 0 and not drafts.finished_files(folder) and not drafts.in_flight(folder)
        )
        check_chunk_rate(first_of_upload=first)
        upload = request.files["file"]
        folder.mkdir(parents=True, exist_ok=True)
        name = drafts.write_chunk(
            folder,
            fields,
            upload.stream,
            current_app.config["CHUNK_BYTES"],
            settings.max_upload_bytes,
            min_free=settings.min_free_bytes,
            reserve=reserve_draft_bytes,
        )
    except RateLimited:
        raise  # answered as every refusal is, with its Retry-After
    except Refusal as exc:
        return jsonify(error=str(exc)), exc.status  # Dropzone shows the error on the file
    if name is None:
        return jsonify(ok=True)
    problem = drafts.problem_with(folder / name)
    if problem:
        drafts.discard(folder, name=name)
        return jsonify(error=f"{problem} It was not kept; the other files are fine."), 422
    return jsonify(ok=True, name=name)


@bp.get("/upload/arrived")
def arrived() -> Any:
    """What the server holds of one file of this page's draft (`?draft=&uuid=`): the page asks
    before it sends a chunk again after the site did not answer (a restart, a dropped link)."""
    if _members_only():
        return error_response(401, intake.CLOSED_SITE)
    uuid = request.args.get("uuid", "")
    if not DZ_UUID.match(uuid):
        raise Refusal("not a Dropzone file id")
    folder = drafts.owned(resources.storage(), request.args.get("draft", ""))
    return jsonify(drafts.arrived(folder, uuid))


def _form_draft() -> tuple[str, Path]:
    """The draft this form names, if this browser's session opened it (else Refusal)."""
    draft = request.form.get("draft", "")
    return draft, drafts.owned(resources.storage(), draft)


@bp.post("/upload/remove")
def remove() -> Any:
    """Takes a file out of the draft: Dropzone's remove link (JSON) or the page's own buttons."""
    try:
        draft, folder = _form_draft()
    except Refusal as exc:
        return error_response(exc.status, str(exc))
    name = request.form.get("name", "") or request.form.get("remove", "")
    uuid = request.form.get("uuid", "")
    removed = drafts.discard(folder, name=name, uuid=uuid if DZ_UUID.match(uuid) else "")
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(ok=removed)
    message = f"Removed {name}." if removed else f"{name} was not in this upload."
    return _page(draft, message=message, email=request.form.get("email", ""))


def _submit(folder: Path) -> Any:
    project_id = intake.target_project(request.form)
    email = intake.upload_email(request.form.get("email"))
    options = intake.job_options(request.form, request.files.get("deployments"))
    check_upload_rate(email)
    intake.save_files(request.files.getlist("files"), folder)
    unfinished = [str(m.get("name", "a file")) for m in drafts.in_flight(folder)]
    if unfinished:
        raise Refusal(
            f"Still uploading or failed part-way: {', '.join(unfinished)}. "
            "Wait for it to finish, or remove it and drop it again."
        )
    dropped = drafts.drop_unusable(folder)
    if dropped:
        raise Refusal(
            "Removed from this upload: " + "; ".join(dropped) + ". The other "
            "files are still here: press Start detection again to send them."
        )
    staged = drafts.entries(folder)
    if not staged:
        raise Refusal("Please add a zip or some images before submitting.")
    return intake.create_job(
        staged, email, options, project_id, intake.chosen_location(request.form, project_id)
    )


@bp.post("/upload")
def submit() -> Any:
    """The form: an email, the draft's files and any files posted with the form itself."""
    try:
        draft, folder = _form_draft()
    except Refusal as exc:
        return _page(
            drafts.open_new(), error=str(exc), email=request.form.get("email", "")
        ), exc.status
    try:
        state = _submit(folder)
    except (RateLimited, QueueUnavailable):
        raise  # a page of their own: the wait, or the job's link while the queue is down
    except Refusal as exc:  # the same page again, with the files still there and why
        return _page(draft, error=str(exc), email=request.form.get("email", "")), exc.status
    intake.discard(folder)
    return redirect(url_for("jobs.page", job_id=state.id), code=303)
