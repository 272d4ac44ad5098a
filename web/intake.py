"""An upload becomes a job: the files' names made safe, what the uploader chose read and checked,
the files moved into the job's upload folder and the job queued."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from redis.exceptions import RedisError
from werkzeug.datastructures import FileStorage

from shared.camtrap_options import Place, parse_places, parse_utc_offset
from shared.contract import JobState, enqueue_job
from shared.errors import InputError
from shared.events.grouping import folder_at
from shared.inputs import MEDIA_SUFFIXES, MEDIA_WORDS, collect_upload, plain_name
from shared.options import JobOptions
from shared.people.projects import project_by_id, put_job
from shared.people.roles import Can
from shared.storage import new_job_id
from shared.store.class_sets import get_set
from shared.surveys.locations import Location, location_named, locations_of
from shared.surveys.project_settings import ProjectSettings
from shared.video_options import parse_deployment_level, parse_event_gap, parse_frame_interval
from web import resources
from web.access import now, signed_in
from web.audit_trail import note
from web.classes import usable_set
from web.errors import Refusal
from web.projects import project_for


class QueueUnavailable(Refusal):
    """The upload is safe on disk but could not be queued; a model server queues it later."""

    def __init__(self, state: JobState) -> None:
        link = url_for("jobs.page", job_id=state.id, _external=True)
        super().__init__(
            "The job queue is not reachable right now. Your upload is saved on the server and "
            "will be queued automatically when the queue is back; keep this job's link to "
            f"follow it: {link}",
            503,
            id=state.id,
            page_url=link,
        )
        self.state = state


ALLOWED_SUFFIXES = MEDIA_SUFFIXES | {".zip"}


def clean_email(raw: str | None) -> str:
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Refusal("Please give a valid email address (for example name@example.org).") from None


def safe_name(original: str, folder: Path) -> str:
    """A plain file name that does not exist yet in `folder`, keeping the extension."""
    name = plain_name(original)
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in ALLOWED_SUFFIXES:
        raise Refusal(f"{original!r} is not a zip, a photo or a video ({MEDIA_WORDS}).", 415)
    candidate, n = name, 2
    while (folder / candidate).exists():
        candidate, n = f"{stem}-{n}{suffix}", n + 1
    return candidate


def save_files(files: list[FileStorage], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for item in files:
        if not item or not item.filename:
            continue
        path = folder / safe_name(item.filename, folder)
        item.save(path)
        saved.append(path)
    return saved


def count_media(paths: list[Path]) -> tuple[int, int]:
    """How many photos and videos the files hold, and how many of them are videos (zip
    listings are read, nothing is extracted)."""
    if not paths:
        return 0, 0
    try:
        found = collect_upload(paths, max_file_bytes=resources.settings().max_file_bytes)
    except InputError as exc:
        raise Refusal(str(exc)) from None
    return len(found.items), sum(1 for item in found.items if item.kind == "video")


def _field(form: Mapping[str, str], name: str, parse: Any, what: str) -> Any:
    raw = (form.get(name) or "").strip()
    try:
        return parse(raw) if raw else None
    except ValueError as exc:
        raise Refusal(f"Please give a valid {what}: {exc}.") from None


def job_options(form: Mapping[str, str], deployments: FileStorage | None = None) -> JobOptions:
    """`frame_interval` (seconds, blank for the site's default), `video_clips` (on/true/1),
    `event_gap` (seconds), `deployment_level` (a folder level), `utc_offset` (+02:00), blank
    for the defaults, and `deployments`: a CSV `deployment,latitude,longitude`, as a form field
    or an attached file; `class_set`, the name of a class set that suggests species;
    `reports_only` (on/true/1): no annotated copies or pictures."""
    return JobOptions(
        frame_interval=_field(form, "frame_interval", parse_frame_interval, "frame interval"),
        video_clips=_ticked(form, "video_clips"),
        event_gap=_field(form, "event_gap", parse_event_gap, "event gap"),
        deployment_level=_field(
            form, "deployment_level", parse_deployment_level, "deployment folder level"
        ),
        sorted_copies=_ticked(form, "sorted_copies"),
        utc_offset=_field(form, "utc_offset", parse_utc_offset, "UTC offset"),
        places=_places(form.get("deployments") or "", deployments),
        class_set=_class_set(form.get("class_set") or ""),
        reports_only=_ticked(form, "reports_only"),
    )


def _class_set(name: str) -> str:
    """A class set that exists, or "" for none."""
    name = name.strip()
    if name and get_set(resources.results_store(), name) is None:
        raise Refusal(f"There is no class set named {name!r}; see /classes.")
    return name


MAX_PLACES_BYTES = 1 << 20


def _places(text: str, attached: FileStorage | None) -> dict[str, Place]:
    if attached is not None and attached.filename:
        try:
            raw = attached.stream.read(MAX_PLACES_BYTES + 1)
        finally:
            attached.close()  # a spooled temporary file: closed now, not when collected
        if len(raw) > MAX_PLACES_BYTES:
            raise Refusal("The deployments CSV is over 1 MB.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Refusal("The deployments CSV is not UTF-8 text.") from None
    try:
        return parse_places(text)
    except ValueError as exc:
        raise Refusal(f"Please check the deployments CSV: {exc}.") from None


def _ticked(form: Mapping[str, str], name: str) -> bool:
    return (form.get(name) or "").strip().lower() in ("1", "on", "true", "yes")


CLOSED_SITE = (
    "This site takes uploads from its members only: log in and choose one of your projects "
    "(scripts send an API token as `Authorization: Bearer <token>` and `project`)."
)


def target_project(form: Mapping[str, str]) -> int | None:
    """The project an upload goes into (`project`, an id), checked against the caller's role;
    None: the Inbox, where the site takes open uploads."""
    raw = (form.get("project") or "").strip()
    if not raw:
        if not resources.settings().open_uploads:
            raise Refusal(CLOSED_SITE, 401 if signed_in() is None else 400)
        return None
    if not raw.isdigit():
        raise Refusal(f"project is a project's number, not {raw!r}.")
    project, _, _ = project_for(int(raw), Can.UPLOAD)
    return project.id


def upload_email(raw: str | None) -> str:
    """The address the notice goes to: the one given, else the logged-in account's."""
    user = signed_in()
    if user is not None and not (raw or "").strip():
        return user.email
    return clean_email(raw)


def chosen_location(form: Mapping[str, str], project_id: int | None) -> Location | None:
    """`deployment`: the project's location the whole card is from (blank: matched by camera
    serial or folder name when the card is processed)."""
    name = (form.get("deployment") or "").strip()
    if not name:
        return None
    if project_id is None:
        raise Refusal("deployment names one of a project's locations: give the project too.")
    found = location_named(resources.results_store(), project_id, name)
    if found is None:
        raise Refusal(
            f"The project has no location called {name!r}; register it on the project's page "
            "(or leave deployment blank to register it from the card)."
        )
    return found


def survey_places(
    staged: list[Path], options: JobOptions, project_id: int, chosen: Location | None
) -> JobOptions:
    """The project's registered coordinates for this card's deployments, so nobody types a
    camera's position twice: the chosen location's for every folder, or each location's for the
    folder named like it. Coordinates the uploader gave with this card come first."""
    known = {loc.name: loc.place for loc in locations_of(resources.results_store(), project_id)}
    found = collect_upload(staged, max_file_bytes=resources.settings().max_file_bytes)
    folders = {folder_at(item.rel_path, options.level) for item in found.items}
    places = {}
    for folder in folders:
        place = chosen.place if chosen is not None else known.get(folder.rsplit("/", 1)[-1])
        if place is not None:
            places[folder or "(top level)"] = place
    if not places:
        return options
    return replace(options, places={**places, **options.places})


def create_job(
    staged: list[Path],
    email: str,
    options: JobOptions | None = None,
    project_id: int | None = None,
    location: Location | None = None,
) -> JobState:
    """Moves staged files into a new job's upload folder and queues it. The upload is on disk
    before Redis is touched, so a Redis outage loses nothing that arrived; the job's project
    is recorded before it is queued, so no moment exists when a private job is open."""
    images, videos = count_media(staged)
    if images == 0:
        raise Refusal(f"The upload contained no {MEDIA_WORDS}, neither as files nor inside a zip.")
    options = options or JobOptions()
    if project_id is not None:
        project = project_by_id(resources.results_store(), project_id)
        if project is not None:
            defaults = ProjectSettings.from_json(project.settings)
            options = defaults.defaults_for(options, project.utc_offset)
    if options.class_set and usable_set(options.class_set, project_id) is None:
        raise Refusal(
            f"The class set {options.class_set!r} is another project's; choose a site-wide set "
            "or one of this project's."
        )
    store = resources.storage()
    job_id = new_job_id()
    target = store.upload_dir(job_id)
    target.mkdir(parents=True)
    for path in staged:
        os.replace(path, target / path.name)
    if project_id is not None:
        options = survey_places(list(target.iterdir()), options, project_id, location)
        uploader = signed_in()
        put_job(
            resources.results_store(),
            job_id,
            project_id,
            uploader_id=uploader.id if uploader else None,
            now=now(),
            location_id=location.id if location is not None else None,
        )
        detail: dict[str, Any] = {"job": job_id, "files": images}
        if location is not None:
            detail["location"] = location.name
        note(project_id, "upload", detail)
    # Never the request's Host header: a forged one would put its host into the email
    # sent to the researcher. Production requires TRAPLINE_PUBLIC_URL.
    base_url = resources.settings().public_url
    state = JobState(
        id=job_id,
        email=email,
        total=images,
        base_url=base_url,
        videos=videos,
        options=options,
    )
    # Who and when, beside the files: enough to queue the job later if Redis is down now.
    (target / ".job.json").write_text(
        json.dumps(
            {
                "email": email,
                "created_at": state.created_at,
                "images": images,
                "base_url": base_url,
                "videos": videos,
                "options": state.options.to_json(),
            }
        ),
        encoding="utf-8",
    )
    try:
        enqueue_job(resources.redis(), state)
    except RedisError as exc:
        current_app.logger.error("job %s: saved on disk, Redis unreachable: %s", job_id, exc)
        raise QueueUnavailable(state) from exc
    current_app.logger.info("job %s: queued, %d images", job_id, images)
    return state


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
