"""A job's live record in Redis: its status, progress and the work queued or running on it, and
the one guarded way to change it.

Every write goes through `transition` (or `enqueue_job`'s MULTI), and both keep the index of
unfinished jobs (`UNFINISHED_KEY`) in step in the same Redis step, so nothing ever has to scan
the keyspace to find the work that is still going on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from redis import Redis

from shared.options import JobOptions
from shared.storage import is_job_id

STATE_PREFIX = "trapline:job:"
# job id -> files its detection still has to do (0 for a finished job whose follow-up waits or
# runs), for every job with work queued or running: what recovery and "work ahead" read
UNFINISHED_KEY = "trapline:jobs:unfinished"
# job id scored by its creation time: the admin page's recent jobs without a scan
RECENT_KEY = "trapline:jobs:recent"
# Job records stay this long after the job ends; result files are removed by the cleanup job.
STATE_TTL_SECONDS = 60 * 60 * 24 * 60


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


class FollowUpState(str, Enum):
    """Where a follow-up (export, classify) stands; "" on the record when there is none."""

    QUEUED = "queued"
    RUNNING = "running"  # its model server holds the follow-up's lease


@dataclass
class JobState:
    """Everything the site shows about a job while it is live. Written by web (create, cancel,
    follow-up requests) and the model servers."""

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
    model_facts: dict[str, Any] = field(default_factory=dict)  # what it can see (ModelFacts)
    base_url: str = ""  # the site's address for links in the email notice
    in_flight: list[str] = field(default_factory=list)  # files in hand on the model server
    crashes: int = 0  # times its model server died while running it
    suspects: list[str] = field(default_factory=list)  # in hand at every one of those deaths
    # The follow-up queued or running on the finished job: its RQ id (which fences every write
    # it makes), its kind, attempt (counted over all the job's follow-ups), where it stands,
    # how often its server died on it, and why the last one gave up
    follow_up: str = ""
    follow_up_kind: str = ""
    follow_up_attempt: int = 0
    follow_up_state: str = ""
    follow_up_crashes: int = 0
    follow_up_error: str = ""
    exported_at: float | None = None  # when the outputs were last made again from the store
    export_photos: bool = True  # the export asked for: annotated copies, or the reports alone
    export_progress: dict[str, Any] = field(default_factory=dict)  # {"stage", "done"}
    videos: int = 0  # of `total`, how many are videos (they take longer)
    options: JobOptions = field(default_factory=JobOptions)  # what the uploader chose
    # the queued or running CLASSIFY follow-up: {"set": name, "unreviewed_only": bool,
    # "learn": bool (first add the job's reviewed species boxes to the set)}
    classify: dict[str, Any] = field(default_factory=dict)
    # the queued or running EVALUATE follow-up: the folder (in the job's truth folder) holding
    # the truth files it compares and what it was asked
    truth: str = ""
    # a project's export record (`shared.surveys.project_exports`) names its project here; 0 for
    # an upload's job
    project: int = 0

    def to_redis(self) -> dict[Any, str]:
        return encode(asdict(self))

    @classmethod
    def from_redis(cls, raw: Mapping[bytes, bytes]) -> JobState:
        data = {k.decode(): json.loads(v) for k, v in raw.items()}
        known = set(cls.__dataclass_fields__)
        # a record of the release that kept the choices as flat fields reads the same
        options = JobOptions.from_json(data.get("options") or data)
        state = cls(**{k: v for k, v in data.items() if k in known and k != "options"})
        state.status = JobStatus(state.status)
        state.options = options
        return state


def state_key(job_id: str) -> str:
    if not is_job_id(job_id):
        raise ValueError("not a job id")
    return STATE_PREFIX + job_id


def encode(changes: Mapping[str, Any]) -> dict[Any, str]:
    """Field values as JSON; keys typed loosely because redis-py's `hset` mapping is invariant."""
    return {k: json.dumps(v.value if isinstance(v, Enum) else v) for k, v in changes.items()}


def load_state(redis: Redis, job_id: str) -> JobState | None:
    if not is_job_id(job_id):
        return None
    raw: dict[bytes, bytes] = redis.hgetall(state_key(job_id))  # type: ignore[assignment]
    return JobState.from_redis(raw) if raw else None


def load_states(redis: Redis, job_ids: Iterable[str]) -> list[JobState]:
    """Several records in one round trip (records that are gone are left out)."""
    ids = [job_id for job_id in job_ids if is_job_id(job_id)]
    pipe = redis.pipeline(transaction=False)
    for job_id in ids:
        pipe.hgetall(state_key(job_id))
    return [JobState.from_redis(raw) for raw in pipe.execute() if raw]


# Puts the job in the index of unfinished work, or takes it out, from what its record now says.
# KEYS[1] the record, KEYS[2] the index; ARGV[1] the job id. Shared by every script that writes.
INDEX_LUA = """
local function index_job(record, unfinished, job_id)
  local f = redis.call('HMGET', record, 'status', 'follow_up', 'total', 'processed')
  local waiting = f[1] == '"queued"' or f[1] == '"processing"'
  local follow = f[2] and f[2] ~= '""'
  if (not f[1]) or ((not waiting) and (not follow)) then
    redis.call('HDEL', unfinished, job_id)
    return
  end
  local left = 0
  if waiting then left = math.max((tonumber(f[3]) or 0) - (tonumber(f[4]) or 0), 0) end
  redis.call('HSET', unfinished, job_id, left)
end
"""
_INDEX = INDEX_LUA + "index_job(KEYS[1], KEYS[2], ARGV[1])\nreturn 1\n"

# Sets fields only while the record's status is one of the allowed ones and every fencing field
# still holds its expected value (the attempt of a detect run, the RQ id of a follow-up). One
# script, so no other writer can slip between the check and the write.
_TRANSITION = (
    INDEX_LUA
    + """
local raw = redis.call('HGET', KEYS[1], 'status')
if not raw then return 0 end
local allowed = cjson.decode(ARGV[1])
local ok = false
for _, s in ipairs(allowed) do if raw == s then ok = true end end
if not ok then return 0 end
for k, v in pairs(cjson.decode(ARGV[2])) do
  if redis.call('HGET', KEYS[1], k) ~= v then return 0 end
end
local fields = cjson.decode(ARGV[3])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
index_job(KEYS[1], KEYS[2], ARGV[5])
return 1
"""
)


def transition(
    redis: Redis,
    job_id: str,
    allowed: Iterable[JobStatus],
    *,
    attempt: int | None = None,
    fence: Mapping[str, Any] | None = None,
    **changes: Any,
) -> bool:
    """Writes `changes` (and only them) if the job's status is in `allowed`, with `attempt` if
    the job is still on that detect attempt, and with `fence` if each named field still holds
    that value (a follow-up passes {"follow_up": its RQ id}). False when the record moved on:
    the caller lost a race (a cancel against a finish, a stale model server) and must not act as
    if it had written."""
    statuses = json.dumps([json.dumps(s.value) for s in allowed])
    fences = dict(fence or {})
    if attempt is not None:
        fences["attempt"] = attempt
    done = redis.eval(
        _TRANSITION,
        2,
        state_key(job_id),
        UNFINISHED_KEY,
        statuses,
        json.dumps(encode(fences)),
        json.dumps(encode(changes)),
        STATE_TTL_SECONDS,
        job_id,
    )
    return bool(done)


def index_in_pipeline(pipe: Any, job_id: str) -> None:
    """Queues the index update for a record written in the same MULTI."""
    pipe.eval(_INDEX, 2, state_key(job_id), UNFINISHED_KEY, job_id)


def update_fields(redis: Redis, job_id: str, *, attempt: int | None = None, **changes: Any) -> bool:
    """Progress of a running job: written only while it is processing (on that attempt)."""
    return transition(redis, job_id, (JobStatus.PROCESSING,), attempt=attempt, **changes)


def as_text(value: bytes | str) -> str:
    """A Redis reply as text (clients made without decode_responses return bytes)."""
    return value.decode() if isinstance(value, bytes) else value
