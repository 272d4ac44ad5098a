"""The job contract between the web site and the model servers.

One queue, named kinds of work each with its job function (by dotted name, so the web never
imports the model server), one function that owns every enqueue option, and one status schema
kept in a Redis hash per job.
The hash, not RQ's own job record, is what the site shows: it outlives RQ's TTLs and holds
progress.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from redis import Redis
from redis.exceptions import WatchError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from shared.storage import is_job_id
from shared.video_options import DEFAULT_MAX_FRAMES

QUEUE_NAME = "trapline"


class JobKind(str, Enum):
    """The kinds of work a model server does for a job. DETECT is the upload's run, which the
    job's status follows; the others are follow-ups on a finished job (`follow_up` in its record
    says which one is waiting or running)."""

    DETECT = "detect"
    EXPORT = "export"  # the outputs made again from the store (after review)
    # species on the stored animal boxes with a class set (`classify` in the record says which
    # set and how), then the outputs made again
    CLASSIFY = "classify"


JOB_FUNCTIONS = {
    JobKind.DETECT: "model_server.service.jobs.process_job",
    JobKind.EXPORT: "model_server.service.exports.export_job",
    JobKind.CLASSIFY: "model_server.species.service.classify_job",
}
# Examples for a class set, from an uploaded zip: not a job's work, queued by `enqueue_class_upload`
CLASS_UPLOAD_FUNCTION = "model_server.species.service.add_examples_job"
CLASS_UPLOAD_TIMEOUT = 4 * 3600
JOB_FUNCTION = JOB_FUNCTIONS[JobKind.DETECT]
STATE_PREFIX = "trapline:job:"
MODEL_SERVER_PREFIX = "trapline:model-server:"
NOTICE_KEY = "trapline:notice:no-model"
RATE_KEY = "trapline:recent-rate"  # images/s of the last finished job, for queued ETAs
# Job records stay this long after the job ends; result files are removed by the cleanup job.
STATE_TTL_SECONDS = 60 * 60 * 24 * 60
SECONDS_PER_IMAGE_ALLOWANCE = 60  # MegaDetector v4 on a slow CPU, with a wide margin
BASE_TIMEOUT_SECONDS = 600
# A video is up to DEFAULT_MAX_FRAMES detector runs; its length is not known before decoding.
SECONDS_PER_VIDEO_FRAME_ALLOWANCE = 5  # MegaDetector v4 on a slow CPU, about 3x its time
SECONDS_PER_VIDEO_ALLOWANCE = DEFAULT_MAX_FRAMES * SECONDS_PER_VIDEO_FRAME_ALLOWANCE


class JobStatus(str, Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (
            JobStatus.FINISHED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
            JobStatus.EXPIRED,
        )


@dataclass
class JobState:
    """Everything the site shows about a job. Written by web (create, cancel) and worker."""

    id: str
    status: JobStatus = JobStatus.QUEUED
    email: str = ""
    total: int = 0
    processed: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    rate: float | None = None  # images per second measured in this run
    error: str = ""
    rq_id: str = ""  # the RQ job currently carrying this job (changes when a job is released)
    attempt: int = 0
    cancel_requested: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    base_url: str = ""  # the site's address for links in the email notice
    in_flight: list[str] = field(default_factory=list)  # files in hand on the model server
    crashes: int = 0  # times its model server died while running it
    suspects: list[str] = field(default_factory=list)  # in hand at every one of those deaths
    follow_up: str = ""  # RQ id of another kind of work queued or running on the finished job
    exported_at: float | None = None  # when the outputs were last made again from the store
    export_photos: bool = True  # the export asked for: annotated copies, or the reports alone
    export_progress: dict[str, Any] = field(default_factory=dict)  # {"stage", "done"}
    # what the uploader chose for videos: seconds between checked frames (None: the site's
    # setting) and whether the zip gets an annotated clip of each
    frame_interval: float | None = None
    video_clips: bool = False
    videos: int = 0  # of `total`, how many are videos (they take longer)
    event_gap: float | None = None  # seconds; None: the default (60)
    deployment_level: int | None = None  # the folder level of one camera; None: 1
    sorted_copies: bool = False  # annotated copies in the zip under a folder per outcome
    # the reports alone: no annotated copies, thumbnails or renditions are drawn (faster; the
    # results page then has no pictures)
    reports_only: bool = False
    # for the Camtrap DP package: the cameras' UTC offset (None: UTC) and the coordinates the
    # uploader gave per deployment, {deployment: [latitude, longitude]}
    utc_offset: str | None = None
    places: dict[str, list[float]] = field(default_factory=dict)
    class_set: str = ""  # species suggested from this class set ("": none)
    # the queued or running CLASSIFY follow-up: {"set": name, "unreviewed_only": bool,
    # "learn": bool (first add the job's reviewed species boxes to the set)}
    classify: dict[str, Any] = field(default_factory=dict)

    def choices(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CHOSEN_FIELDS}

    def to_redis(self) -> dict[Any, str]:
        return _encode(asdict(self))

    @classmethod
    def from_redis(cls, raw: dict[bytes, bytes]) -> JobState:
        data = {k.decode(): json.loads(v) for k, v in raw.items()}
        known = {f for f in cls.__dataclass_fields__}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.status = JobStatus(state.status)
        return state


# What the uploader chose, kept beside the upload (`.job.json`) so a job found on disk without
# its queue entry is queued again with the same choices.
CHOSEN_FIELDS = (
    "frame_interval",
    "video_clips",
    "event_gap",
    "deployment_level",
    "sorted_copies",
    "utc_offset",
    "places",
    "class_set",
    "reports_only",
)


def state_key(job_id: str) -> str:
    if not is_job_id(job_id):
        raise ValueError("not a job id")
    return STATE_PREFIX + job_id


def _encode(changes: dict[str, Any]) -> dict[Any, str]:
    """Field values as JSON; keys typed loosely because redis-py's `hset` mapping is invariant."""
    return {k: json.dumps(v.value if isinstance(v, Enum) else v) for k, v in changes.items()}


def load_state(redis: Redis, job_id: str) -> JobState | None:
    if not is_job_id(job_id):
        return None
    raw: dict[bytes, bytes] = redis.hgetall(state_key(job_id))  # type: ignore[assignment]
    return JobState.from_redis(raw) if raw else None


def create_state(redis: Redis, state: JobState) -> JobState:
    """Writes a whole record: only for a job nobody else can know about yet."""
    key = state_key(state.id)
    pipe = redis.pipeline()
    pipe.hset(key, mapping=state.to_redis())
    pipe.expire(key, STATE_TTL_SECONDS)
    pipe.execute()
    return state


# Sets fields only while the record's status is one of the allowed ones (and, when a fencing
# attempt is given, only while the record still belongs to that attempt). One script, so no
# other writer can slip between the check and the write.
_TRANSITION = """
local raw = redis.call('HGET', KEYS[1], 'status')
if not raw then return 0 end
local allowed = cjson.decode(ARGV[1])
local ok = false
for _, s in ipairs(allowed) do if raw == s then ok = true end end
if not ok then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[2] then return 0 end
local fields = cjson.decode(ARGV[3])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


def transition(
    redis: Redis,
    job_id: str,
    allowed: Iterable[JobStatus],
    *,
    attempt: int | None = None,
    **changes: Any,
) -> bool:
    """Writes `changes` (and only them) if the job's status is in `allowed` and, with `attempt`,
    if the job is still on that attempt. False when the record moved on: the caller lost a race
    (a cancel against a finish, a stale model server) and must not act as if it had written."""
    statuses = json.dumps([json.dumps(s.value) for s in allowed])
    fence = json.dumps(attempt) if attempt is not None else ""
    done = redis.eval(
        _TRANSITION,
        1,
        state_key(job_id),
        statuses,
        fence,
        json.dumps(_encode(changes)),
        STATE_TTL_SECONDS,
    )
    return bool(done)


def update_fields(redis: Redis, job_id: str, *, attempt: int | None = None, **changes: Any) -> bool:
    """Progress of a running job: written only while it is processing (on that attempt)."""
    return transition(redis, job_id, (JobStatus.PROCESSING,), attempt=attempt, **changes)


def as_text(value: bytes | str) -> str:
    """A Redis reply as text (clients made without decode_responses return bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def all_states(redis: Redis) -> list[JobState]:
    states = []
    for key in redis.scan_iter(STATE_PREFIX + "*", count=500):
        raw: dict[bytes, bytes] = redis.hgetall(key)  # type: ignore[assignment]
        if raw:
            states.append(JobState.from_redis(raw))
    return states


def job_queue(redis: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=redis, serializer=JSONSerializer)


def job_timeout(media_count: int, videos: int = 0) -> int:
    """The longest a detect job may run: `media_count` files, `videos` of them videos."""
    photos = max(media_count - videos, 0)
    return (
        BASE_TIMEOUT_SECONDS
        + SECONDS_PER_IMAGE_ALLOWANCE * max(photos, 1)
        + SECONDS_PER_VIDEO_ALLOWANCE * videos
    )


class TransitionRefused(Exception):
    """The job's record is not in a state that allows this change (any more)."""


def enqueue_job(
    redis: Redis,
    state: JobState,
    *,
    kind: JobKind = JobKind.DETECT,
    at_front: bool = False,
    allowed: Iterable[JobStatus] | None = None,
    expect_attempt: int | None = None,
) -> JobState:
    """The only place work is put on the queue. The record and the queue entry are written in
    one MULTI/EXEC, so a Redis drop can never leave a job `queued` without an RQ job. With
    `allowed`, the record must be in one of those statuses (checked under WATCH), else
    TransitionRefused; with `expect_attempt`, the record must still be on that attempt. Each
    detect attempt gets its own RQ id so that a job released by a stopping model server can be
    queued again while RQ still records the old one. Other kinds need a finished job and leave
    its status alone."""
    key = state_key(state.id)
    with redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                current = pipe.hgetall(key)
                found = JobState.from_redis(current) if current else None  # type: ignore[arg-type]
                if kind is not JobKind.DETECT:
                    _queue_follow_up(redis, pipe, state, kind, found)
                    return state
                _check(found, allowed, expect_attempt)
                if found is not None and allowed is not None:
                    state.attempt = found.attempt
                _queue_detect(redis, pipe, state, at_front, found is not None)
                return state
            except WatchError:
                continue  # someone wrote the record meanwhile: look again


def _check(
    found: JobState | None, allowed: Iterable[JobStatus] | None, expect_attempt: int | None
) -> None:
    if allowed is None:
        return
    if found is None:
        raise TransitionRefused("the job no longer exists")
    if found.status not in set(allowed):
        raise TransitionRefused(f"the job is {found.status.value}")
    if expect_attempt is not None and found.attempt != expect_attempt:
        raise TransitionRefused(f"the job is on attempt {found.attempt}")


def _queue_detect(redis: Redis, pipe: Any, state: JobState, at_front: bool, exists: bool) -> None:
    attempt = state.attempt + 1
    rq_id = state.id if attempt == 1 else f"{state.id}-{attempt}"
    changes = {
        "attempt": attempt,
        "rq_id": rq_id,
        "status": JobStatus.QUEUED,
        "cancel_requested": False,
    }
    key = state_key(state.id)
    pipe.multi()
    if exists:
        pipe.hset(
            key,
            mapping=_encode({**changes, "error": state.error, "finished_at": state.finished_at}),
        )
    else:
        pipe.hset(key, mapping=state.to_redis())
        pipe.hset(key, mapping=_encode(changes))
    pipe.expire(key, STATE_TTL_SECONDS)
    _rq_enqueue(redis, pipe, JobKind.DETECT, state, rq_id, at_front)
    pipe.execute()
    state.attempt, state.rq_id, state.status, state.cancel_requested = (
        attempt,
        rq_id,
        JobStatus.QUEUED,
        False,
    )


def _queue_follow_up(
    redis: Redis, pipe: Any, state: JobState, kind: JobKind, found: JobState | None
) -> None:
    if found is None or found.status is not JobStatus.FINISHED:
        raise TransitionRefused(
            f"the job is {found.status.value if found else 'gone'}; only a finished job can "
            f"have its {kind.value} done"
        )
    if found.follow_up and _still_pending(redis, found.follow_up):
        raise TransitionRefused(
            f"the job's {found.follow_up.split('-')[-2]} is already waiting or running"
        )
    rq_id = f"{state.id}-{kind.value}-{secrets.token_hex(4)}"
    pipe.multi()
    pipe.hset(state_key(state.id), mapping=_encode({"follow_up": rq_id}))
    _rq_enqueue(redis, pipe, kind, found, rq_id, False)
    pipe.execute()
    state.follow_up = rq_id


def _still_pending(redis: Redis, rq_id: str) -> bool:
    """Whether a follow-up's RQ job still waits or runs; a mark left by a model server that
    died during it does not block the next one."""
    try:
        status = Job.fetch(rq_id, connection=redis, serializer=JSONSerializer).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED.value, "started", "deferred", "scheduled")


def _rq_enqueue(
    redis: Redis, pipe: Any, kind: JobKind, state: JobState, rq_id: str, at_front: bool
) -> None:
    job_queue(redis).enqueue(
        JOB_FUNCTIONS[kind],
        args=(state.id,),
        job_id=rq_id,
        job_timeout=job_timeout(state.total, state.videos),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        ttl=None,  # a queued job waits as long as it takes for a model server
        description=f"trapline {kind.value} {state.id[:8]} ({state.total} files)",
        at_front=at_front,
        pipeline=pipe,
    )


def enqueue_class_upload(redis: Redis, upload_id: int) -> str:
    """Queues the model server's work on an upload of example photos for a class set (its
    status lives in the results database, `class_uploads`)."""
    rq_id = f"class-upload-{upload_id}"
    job_queue(redis).enqueue(
        CLASS_UPLOAD_FUNCTION,
        args=(upload_id,),
        job_id=rq_id,
        job_timeout=CLASS_UPLOAD_TIMEOUT,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        ttl=None,
        description=f"trapline class-set examples, upload {upload_id}",
    )
    return rq_id


def queue_position(redis: Redis, state: JobState) -> int | None:
    """1 for the next job to run; None when not waiting in the queue."""
    if state.status is not JobStatus.QUEUED or not state.rq_id:
        return None
    ids = job_queue(redis).get_job_ids()
    return ids.index(state.rq_id) + 1 if state.rq_id in ids else None
