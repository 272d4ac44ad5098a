"""What the views call: saving uploads, validating them, creating and describing jobs."""

from __future__ import annotations

import json
import os
import shutil
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import abort, current_app, url_for
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import Engine
from werkzeug.datastructures import FileStorage

from shared.camtrap_options import parse_places, parse_utc_offset
from shared.contract import (
    NOTICE_KEY,
    RATE_KEY,
    JobState,
    JobStatus,
    enqueue_job,
    load_state,
    transition,
)
from shared.errors import InputError
from shared.inputs import MEDIA_SUFFIXES, MEDIA_WORDS, collect_upload
from shared.job_index import queue_position, work_ahead
from shared.model_servers import live_count
from shared.settings import Settings
from shared.storage import Storage, new_job_id
from shared.store.class_sets import get_set
from shared.store.writes import delete_job
from shared.video_options import parse_deployment_level, parse_event_gap, parse_frame_interval

ALLOWED_SUFFIXES = MEDIA_SUFFIXES | {".zip"}


class QueueUnavailable(Exception):
    """The upload is safe on disk but could not be queued; a model server queues it later."""

    def __init__(self, state: JobState) -> None:
        super().__init__("queue unavailable")
        self.state = state
        self.message = (
            "The job queue is not reachable right now. Your upload is saved on the "
            "server and will be queued automatically when the queue is back; keep "
            "this job's link to follow it."
        )


class UploadRefused(Exception):
    """A refusal with the HTTP status and a message for the person uploading."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def settings() -> Settings:
    return current_app.extensions["trapline.settings"]


def redis() -> Redis:
    return current_app.extensions["trapline.redis"]


def storage() -> Storage:
    return Storage(settings().data_dir)


def results_store() -> Engine:
    return current_app.extensions["trapline.store"]


def clean_email(raw: str | None) -> str:
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise UploadRefused(
            "Please give a valid email address (for example name@example.org)."
        ) from None


def human_size(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.0f} {unit}"
    return f"{n} bytes"


def plain_name(original: str) -> str:
    """The researcher's own file name, made safe to store: last path component only, no control
    characters, no leading dots, at most 200 bytes. Spaces, parentheses and accents stay, because
    names like `StationC (2).JPG` carry meaning and appear in every report (werkzeug's
    secure_filename would turn them into `StationC_2.JPG`)."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = name.strip().lstrip(".").strip()
    stem, suffix = os.path.splitext(name)
    while len((stem + suffix).encode()) > 200 and stem:
        stem = stem[:-1]
    return (stem + suffix) or "upload"


def safe_name(original: str, folder: Path) -> str:
    """A plain file name that does not exist yet in `folder`, keeping the extension."""
    name = plain_name(original)
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in ALLOWED_SUFFIXES:
        raise UploadRefused(f"{original!r} is not a zip, a photo or a video ({MEDIA_WORDS}).", 415)
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
        found = collect_upload(paths, max_file_bytes=settings().max_file_bytes)
    except InputError as exc:
        raise UploadRefused(str(exc)) from None
    return len(found.items), sum(1 for item in found.items if item.kind == "video")


@dataclass(frozen=True)
class JobChoices:
    """What the uploader chose for videos and events (page fields or API form fields)."""

    frame_interval: float | None = None
    video_clips: bool = False
    event_gap: float | None = None
    deployment_level: int | None = None
    sorted_copies: bool = False
    utc_offset: str | None = None  # None: UTC
    places: dict[str, list[float]] = field(default_factory=dict)
    class_set: str = ""  # species suggested from this class set
    reports_only: bool = False  # no annotated copies or pictures: the reports alone, faster


def _field(form: Mapping[str, str], name: str, parse: Any, what: str) -> Any:
    raw = (form.get(name) or "").strip()
    try:
        return parse(raw) if raw else None
    except ValueError as exc:
        raise UploadRefused(f"Please give a valid {what}: {exc}.") from None


def job_choices(form: Mapping[str, str], deployments: FileStorage | None = None) -> JobChoices:
    """`frame_interval` (seconds, blank for the site's default), `video_clips` (on/true/1),
    `event_gap` (seconds), `deployment_level` (a folder level), `utc_offset` (+02:00), blank
    for the defaults, and `deployments`: a CSV `deployment,latitude,longitude`, as a form field
    or an attached file; `class_set`, the name of a class set that suggests species;
    `reports_only` (on/true/1): no annotated copies or pictures."""
    return JobChoices(
        _field(form, "frame_interval", parse_frame_interval, "frame interval"),
        _ticked(form, "video_clips"),
        _field(form, "event_gap", parse_event_gap, "event gap"),
        _field(form, "deployment_level", parse_deployment_level, "deployment folder level"),
        _ticked(form, "sorted_copies"),
        _field(form, "utc_offset", parse_utc_offset, "UTC offset"),
        _places(form.get("deployments") or "", deployments),
        _class_set(form.get("class_set") or ""),
        _ticked(form, "reports_only"),
    )


def _class_set(name: str) -> str:
    """A class set that exists, or "" for none."""
    name = name.strip()
    if name and get_set(results_store(), name) is None:
        raise UploadRefused(f"There is no class set named {name!r}; see /classes.")
    return name


MAX_PLACES_BYTES = 1 << 20


def _places(text: str, attached: FileStorage | None) -> dict[str, list[float]]:
    if attached is not None and attached.filename:
        try:
            raw = attached.stream.read(MAX_PLACES_BYTES + 1)
        finally:
            attached.close()  # a spooled temporary file: closed now, not when collected
        if len(raw) > MAX_PLACES_BYTES:
            raise UploadRefused("The deployments CSV is over 1 MB.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadRefused("The deployments CSV is not UTF-8 text.") from None
    try:
        return {name: list(place) for name, place in parse_places(text).items()}
    except ValueError as exc:
        raise UploadRefused(f"Please check the deployments CSV: {exc}.") from None


def _ticked(form: Mapping[str, str], name: str) -> bool:
    return (form.get(name) or "").strip().lower() in ("1", "on", "true", "yes")


def create_job(staged: list[Path], email: str, choices: JobChoices = JobChoices()) -> JobState:
    """Moves staged files into a new job's upload folder and queues it. The upload is on disk
    before Redis is touched, so a Redis outage loses nothing that arrived."""
    images, videos = count_media(staged)
    if images == 0:
        raise UploadRefused(
            f"The upload contained no {MEDIA_WORDS}, neither as files nor inside a zip."
        )
    store = storage()
    job_id = new_job_id()
    target = store.upload_dir(job_id)
    target.mkdir(parents=True)
    for path in staged:
        os.replace(path, target / path.name)
    # Never the request's Host header: a forged one would put its host into the email
    # sent to the researcher. Production requires TRAPLINE_PUBLIC_URL.
    base_url = settings().public_url
    state = JobState(
        id=job_id, email=email, total=images, base_url=base_url, videos=videos, **asdict(choices)
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
                **state.choices(),
            }
        ),
        encoding="utf-8",
    )
    try:
        enqueue_job(redis(), state)
    except RedisError as exc:
        current_app.logger.error("job %s: saved on disk, Redis unreachable: %s", job_id, exc)
        raise QueueUnavailable(state) from exc
    current_app.logger.info("job %s: queued, %d images", job_id, images)
    return state


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def model_notice() -> str | None:
    """Said on the upload page and on waiting jobs' pages while no model server is live, so
    nobody waits unknowingly."""
    try:
        r = redis()
        if live_count(r):
            return None
        notice = r.get(NOTICE_KEY)
    except RedisError:
        return None  # the page still works; /healthz and the admin page say Redis is down
    if notice:
        return (
            "No detector model is installed on the model server yet, so jobs wait in the "
            "queue. Administrators: see `trapline-models download` in the README."
        )
    return "No model server is running right now; jobs wait in the queue until one starts."


def status_payload(state: JobState) -> dict[str, Any]:
    """The one serializer of a job's status, for the API and the job page alike."""
    r = redis()
    position = queue_position(r, state)
    eta: float | None = None
    jobs_ahead = images_ahead = 0
    if state.status is JobStatus.PROCESSING and state.rate:
        eta = max(state.total - state.processed, 0) / state.rate
    elif state.status is JobStatus.QUEUED:
        jobs_ahead, images_ahead = work_ahead(r, state, position)
        recent = r.get(RATE_KEY)
        if recent and float(recent) > 0:
            eta = (images_ahead + state.total) / float(recent)
    finished = state.status is JobStatus.FINISHED
    waiting = state.status in (JobStatus.QUEUED, JobStatus.PROCESSING)
    expires = None
    if finished and state.finished_at:
        keep = settings().results_max_age_days * 86400
        expires = datetime.fromtimestamp(state.finished_at + keep, UTC).strftime("%Y-%m-%d")
    return {
        "id": state.id,
        "status": state.status.value,
        "processed": state.processed,
        "total": state.total,
        "queue_position": position,
        "eta_seconds": round(eta) if eta is not None else None,
        "download_url": (
            url_for("jobs.download", job_id=state.id, _external=True) if finished else None
        ),
        "status_url": url_for("api.job_status", job_id=state.id, _external=True),
        "error": state.error or None,
        "summary": state.summary or None,
        "model": state.model or None,
        "jobs_ahead": jobs_ahead,
        "images_ahead": images_ahead,
        "notice": model_notice() if waiting else None,
        "expires_on": expires,
        "downloads": downloads(state) if finished else [],
        "export": (
            {
                "running": bool(state.follow_up),
                "photos": state.export_photos,
                **state.export_progress,
            }
            if state.follow_up
            else None
        ),
        "exported_at": state.exported_at,
        # why the last export or classify was given up (its model server kept dying)
        "follow_up_error": state.follow_up_error or None,
    }


def downloads(state: JobState) -> list[dict[str, Any]]:
    """The job's zips, newest first, with their sizes (shown before anyone downloads)."""
    store = storage()
    found = []
    for path in store.result_zips(state.id):
        what = "reports" if path == store.reports_zip(state.id) else "full"
        info = path.stat()
        found.append(
            {
                "what": what,
                "bytes": info.st_size,
                "size": human_size(info.st_size),
                "url": url_for("jobs.download", job_id=state.id, what=what, _external=True),
                "made_at": datetime.fromtimestamp(info.st_mtime, UTC).isoformat(),
            }
        )
    return found


def find_job(job_id: str) -> JobState | None:
    return load_state(redis(), job_id)  # None for anything not shaped like one of our ids


def job_or_404(job_id: str) -> JobState:
    state = find_job(job_id)
    if state is None:
        abort(404)
    return state


def cancel_job(state: JobState) -> JobState:
    """A queued job is taken off the queue now; a running one stops at its next image. Each
    step is a guarded transition, so a cancel racing the job's finish changes nothing."""
    r = redis()
    if transition(
        r, state.id, (JobStatus.QUEUED,), status=JobStatus.CANCELLED, finished_at=time.time()
    ):
        try:
            Job.fetch(state.rq_id, connection=r, serializer=JSONSerializer).cancel()
        except (NoSuchJobError, InvalidJobOperation):  # already gone from RQ: our record rules
            pass
        storage().remove_job_files(state.id)
        delete_job(results_store(), state.id)  # a job queued again may have stored some
    else:
        transition(r, state.id, (JobStatus.PROCESSING,), cancel_requested=True)
    return load_state(r, state.id) or state
