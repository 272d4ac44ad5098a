"""The one settings object, built from `TRAPLINE_*` environment variables and parsed strictly."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from shared.errors import SettingsError
from shared.repeats.grouping import RepeatRules
from shared.video_options import (
    DEFAULT_FRAME_INTERVAL,
    DEFAULT_MAX_FRAMES,
    parse_frame_interval,
    parse_max_frames,
)

PREFIX = "TRAPLINE_"
T = TypeVar("T")

# Development defaults are explicit and named as such; production refuses to start without secrets.
DEV_SECRET_KEY = "development-only-not-secret"


def _parse(env: Mapping[str, str], name: str, convert: Callable[[str], T], default: T) -> T:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{PREFIX}{name}={raw!r} is not valid: {exc}") from None


def _fraction(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1")
    return value


def _share(raw: str) -> float:
    value = float(raw)
    if not 0.0 < value <= 1.0:
        raise ValueError("must be more than 0 and at most 1")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _password_hash(raw: str) -> str:
    if ":" not in raw or "$" not in raw:
        raise ValueError(
            "must be a password hash from `python -m web.admin hash-password`, "
            "never the password itself"
        )
    return raw


CAMTRAP_DP_FILES = (
    "camtrap-dp-profile.json",
    "deployments-table-schema.json",
    "media-table-schema.json",
    "observations-table-schema.json",
)


def _schema_folder(raw: str) -> Path:
    folder = Path(raw)
    missing = [name for name in CAMTRAP_DP_FILES if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"the folder lacks {', '.join(missing)}")
    return folder


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything configurable, for both processes. Build it once with `from_env()`, pass it
    down."""

    data_dir: Path = Path("var")
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The results database; empty: an SQLite file `trapline.db` in the data folder.
    database_url: str = ""
    model_path: Path | None = None
    # Species from examples: the model whose features classify animal crops (a YOLOX ONNX
    # export; none: class sets cannot be taught or used on this server)
    species_embedder: Path | None = None
    secret_key: str = DEV_SECRET_KEY
    production: bool = False
    # Detection: None means "the model's own typical threshold".
    detection_threshold: float | None = None
    render_threshold: float | None = None
    # Detections below this never reach any output (MegaDetector's batch runner uses 0.005).
    output_min_confidence: float = 0.005
    # Images above this many pixels are refused as decompression bombs (an error row, not a crash).
    max_image_pixels: int = 120_000_000
    # One file inside an upload may not be larger than this when read (bytes).
    max_file_bytes: int = 200 * 1024 * 1024
    max_upload_bytes: int = 20 * 1024**3
    # Truth files uploaded to evaluate a job, all of one request together (bytes).
    max_truth_bytes: int = 64 * 1024**2
    # Truth files up to this size (all of one request) are compared while the page waits;
    # larger ones are stored and compared by a model server, as a follow-up of the job.
    truth_inline_bytes: int = 4 * 1024**2
    jpeg_quality: int = 88
    # Threads that read, decode and parse EXIF ahead of inference.
    loader_threads: int = 2
    # Decoded pixels held at once across loading, detection and writing (RGB: 3 bytes each);
    # one image larger than this still goes through, alone.
    max_pixels_in_flight: int = 150_000_000
    # Results are stored in transactions of this many images (or every 15 s, whichever comes
    # first): what a crash can cost, against one commit per image.
    store_batch_images: int = 250
    view_size: int = 1280  # long side of the web rendition the review page shows
    # Videos: one frame checked every this many seconds (a job may ask for another interval),
    # and at most this many frames per video (the interval widens to fit).
    video_frame_interval: float = DEFAULT_FRAME_INTERVAL
    video_max_frames: int = DEFAULT_MAX_FRAMES
    # A folder holding Camtrap DP 1.0.2's profile and table schemas (camtrap-dp-profile.json,
    # deployments-/media-/observations-table-schema.json): with it, every package written is
    # validated offline with frictionless and the job page says what the validator found.
    camtrap_dp_schemas: Path | None = None
    # A job whose model server died this many times is failed, naming the images in hand.
    max_attempts: int = 3
    # A detect job with more files than this (a video counts as the frames it may check) is
    # split into chunks of this many that any model server may run; its outputs are made once,
    # when every chunk is stored.
    chunk_images: int = 1000
    # The detector runtime's intra-op and inter-op threads (0: the runtime decides).
    inference_threads: int = 0
    inference_inter_threads: int = 0
    # Behind nginx: downloads are handed to this internal location with X-Accel-Redirect.
    accel_redirect_prefix: str = ""
    # Trust X-Forwarded-* from one proxy in front (nginx) to build correct absolute links.
    behind_proxy: bool = False
    # The site's address as researchers see it, for links in emails; default: the address the
    # upload came in on.
    public_url: str = ""
    # Email notice: off unless smtp_host is set.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "trapline@localhost"
    smtp_starttls: bool = True
    # Security: a key scripts must send as X-API-Key to create or cancel jobs (none: open API);
    # uploads allowed per hour per client address and per email; the admin page's login.
    api_key: str = ""
    uploads_per_hour_per_ip: int = 30
    uploads_per_hour_per_email: int = 20
    # Dropzone chunks (8 MB each) per minute per client address: 600 is 80 MB/s.
    chunks_per_minute_per_ip: int = 600
    # Bytes one client address may put into upload drafts a day, submitted or not (a draft never
    # sent must not fill the disk), and the free space the data folder keeps: a chunk that would
    # leave less is refused.
    draft_bytes_per_day_per_ip: int = 100 * 1024**3
    min_free_bytes: int = 1024**3
    # Anyone with the site's address may upload with an email (the job lands in the Inbox, its
    # link is its key); off: only logged-in members upload, into their projects.
    open_uploads: bool = True
    admin_user: str = "admin"
    admin_password_hash: str = ""  # werkzeug hash; `python -m web.admin hash-password`
    # A running job's lease: a model server silent for this long is taken as dead, and its job
    # is queued again to resume elsewhere.
    lease_seconds: int = 30
    # A model server waits this long for a PostgreSQL server that stopped answering (a restart)
    # before it fails the job it is running.
    database_patience_seconds: float = 120.0
    # How often each model server sweeps the unfinished jobs for work whose server died.
    recovery_seconds: int = 60
    # /readyz answers 503 once a queued job has waited longer than this (a monitor's alarm).
    ready_max_wait_seconds: float = 3600.0
    # Cleanup ages, in days.
    results_max_age_days: float = 14.0
    uploads_max_age_days: float = 14.0
    # Repeated false alarms at a location: boxes overlapping at this IoU are one place; a place
    # with at least repeat_min_files files and more than one event (or more than
    # repeat_min_share of the location's files) is a suspected repeat; boxes larger than
    # repeat_max_box_area of the frame are never grouped.
    repeat_iou: float = 0.85
    repeat_min_files: int = 10
    repeat_min_share: float = 0.2
    repeat_max_box_area: float = 0.2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Each setting from TRAPLINE_<ITS NAME> when set (strictly parsed), else its default
        above: defaults are declared once, on the fields."""
        env = os.environ if env is None else env
        defaults: dict[str, Any] = {f.name: f.default for f in fields(cls)}
        values: dict[str, Any] = {
            name: _parse(env, name.upper(), parse, defaults[name])
            for name, parse in PARSERS.items()
        }
        secret = env.get(PREFIX + "SECRET_KEY", "").strip()
        if values["production"] and not secret:
            raise SettingsError(
                f"{PREFIX}SECRET_KEY must be set in production (a long random string, "
                "e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
        values["public_url"] = values["public_url"].rstrip("/")
        if values["production"] and not values["public_url"]:
            raise SettingsError(
                f"{PREFIX}PUBLIC_URL must be set in production (e.g. https://traps.example.org): "
                "links in notice emails are built from it, never from a request's Host header."
            )
        return cls(secret_key=secret or DEV_SECRET_KEY, **values)

    def __repr__(self) -> str:
        """Every setting but the secrets, which say only whether they are set."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRETS:
                shown.append(f"{f.name}={'<set>' if value else '<unset>'}")
            elif f.name == "database_url" and value:
                shown.append(f"{f.name}={_without_password(value)!r}")
            else:
                shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def repeat_rules(self) -> RepeatRules:
        return RepeatRules(
            self.repeat_iou, self.repeat_min_files, self.repeat_min_share, self.repeat_max_box_area
        )

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def settings_for_command(log: logging.Logger) -> Settings | None:
    """Settings for a command-line entry point; None, after logging why, when they are invalid
    (the caller exits with status 2)."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        log.error("%s", exc)
        return None


# How each setting is read from its variable; secret_key is read apart (production needs one).
PARSERS: dict[str, Callable[[str], Any]] = {
    "data_dir": Path,
    "redis_url": str,
    "database_url": str,
    "model_path": Path,
    "species_embedder": Path,
    "production": _bool,
    "detection_threshold": _fraction,
    "render_threshold": _fraction,
    "output_min_confidence": _fraction,
    "max_image_pixels": _positive_int,
    "max_file_bytes": _positive_int,
    "max_upload_bytes": _positive_int,
    "max_truth_bytes": _positive_int,
    "truth_inline_bytes": _positive_int,
    "jpeg_quality": _positive_int,
    "loader_threads": _positive_int,
    "max_pixels_in_flight": _positive_int,
    "store_batch_images": _positive_int,
    "view_size": _positive_int,
    "video_frame_interval": parse_frame_interval,
    "video_max_frames": parse_max_frames,
    "camtrap_dp_schemas": _schema_folder,
    "max_attempts": _positive_int,
    "chunk_images": _positive_int,
    "inference_threads": int,
    "inference_inter_threads": int,
    "accel_redirect_prefix": str,
    "behind_proxy": _bool,
    "public_url": str,
    "smtp_host": str,
    "smtp_port": _positive_int,
    "smtp_user": str,
    "smtp_password": str,
    "smtp_from": str,
    "smtp_starttls": _bool,
    "api_key": str,
    "uploads_per_hour_per_ip": _positive_int,
    "uploads_per_hour_per_email": _positive_int,
    "chunks_per_minute_per_ip": _positive_int,
    "draft_bytes_per_day_per_ip": _positive_int,
    "min_free_bytes": _positive_int,
    "open_uploads": _bool,
    "admin_user": str,
    "admin_password_hash": _password_hash,
    "lease_seconds": _positive_int,
    "database_patience_seconds": _positive_float,
    "recovery_seconds": _positive_int,
    "ready_max_wait_seconds": _positive_float,
    "results_max_age_days": _positive_float,
    "uploads_max_age_days": _positive_float,
    "repeat_iou": _share,
    "repeat_min_files": _positive_int,
    "repeat_min_share": _share,
    "repeat_max_box_area": _share,
}
SECRETS = frozenset({"secret_key", "smtp_password", "api_key", "admin_password_hash"})


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url  # the web and model server both have SQLAlchemy

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as unreadable, never echoed
        return "<unreadable URL>"
