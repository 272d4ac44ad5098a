"""The job contract between the web site and the model servers.

One queue, one job function (by dotted name, so the web never imports the model server), one
function that owns every enqueue option, and one status schema kept in a Redis hash per job.
The hash, not RQ's own job record, is what the site shows: it outlives RQ's TTLs and holds
progress.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from shared.storage import is_job_id

QUEUE_NAME = "trapline"
JOB_FUNCTION = "model_server.jobs.process_job"
STATE_PREFIX = "trapline:job:"
MODEL_SERVER_PREFIX = "trapline:model-server:"
NOTICE_KEY = "trapline:notice:no-model"
RATE_KEY = "trapline:recent-rate"  # images/s of the last finished job, for queued ETAs
LEASE_PREFIX = "trapline:lease:"  # held by the model server running a job, refreshed while alive
# Job records stay this long after the job ends; result files are removed by the cleanup job.
STATE_TTL_SECONDS = 60 * 60 * 24 * 60
SECONDS_PER_IMAGE_ALLOWANCE = 60  # MegaDetector v4 on a slow CPU, with a wide margin
BASE_TIMEOUT_SECONDS = 600


class JobStatus(str, Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)


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

    def to_redis(self) -> dict[str, str]:
        data = asdict(self)
        data["status"] = self.status.value
        return {k: json.dumps(v) for k, v in data.items()}

    @classmethod
    def from_redis(cls, raw: dict[bytes, bytes]) -> JobState:
        data = {k.decode(): json.loads(v) for k, v in raw.items()}
        known = {f for f in cls.__dataclass_fields__}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.status = JobStatus(state.status)
        return state


def state_key(job_id: str) -> str:
    if not is_job_id(job_id):
        raise ValueError("not a job id")
    return STATE_PREFIX + job_id


def load_state(redis: Redis, job_id: str) -> JobState | None:
    if not is_job_id(job_id):
        return None
    raw = redis.hgetall(state_key(job_id))
    return JobState.from_redis(raw) if raw else None


def save_state(redis: Redis, state: JobState, **changes: Any) -> JobState:
    for key, value in changes.items():
        setattr(state, key, value)
    key = state_key(state.id)
    pipe = redis.pipeline()
    pipe.hset(key, mapping=state.to_redis())
    pipe.expire(key, STATE_TTL_SECONDS)
    pipe.execute()
    return state


def update_fields(redis: Redis, job_id: str, **changes: Any) -> None:
    """Writes only these fields (progress), leaving the rest of the record as it is."""
    redis.hset(state_key(job_id), mapping={k: json.dumps(v.value if isinstance(v, Enum) else v)
                                           for k, v in changes.items()})


def take_lease(redis: Redis, job_id: str, holder: str, seconds: int) -> None:
    redis.set(LEASE_PREFIX + job_id, holder, ex=seconds)


def has_lease(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(LEASE_PREFIX + job_id))


def drop_lease(redis: Redis, job_id: str) -> None:
    redis.delete(LEASE_PREFIX + job_id)


def all_states(redis: Redis) -> list[JobState]:
    states = []
    for key in redis.scan_iter(STATE_PREFIX + "*", count=500):
        raw = redis.hgetall(key)
        if raw:
            states.append(JobState.from_redis(raw))
    return states


def job_queue(redis: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=redis, serializer=JSONSerializer)


def job_timeout(image_count: int) -> int:
    return BASE_TIMEOUT_SECONDS + SECONDS_PER_IMAGE_ALLOWANCE * max(image_count, 1)


def enqueue_job(redis: Redis, state: JobState, *, at_front: bool = False) -> JobState:
    """The only place a job is put on the queue. Each attempt gets its own RQ id so that a job
    released by a stopping model server can be queued again while RQ still records the old one."""
    state.attempt += 1
    rq_id = state.id if state.attempt == 1 else f"{state.id}-{state.attempt}"
    save_state(redis, state, rq_id=rq_id, status=JobStatus.QUEUED)
    job_queue(redis).enqueue(
        JOB_FUNCTION,
        args=(state.id,),
        job_id=rq_id,
        job_timeout=job_timeout(state.total),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        ttl=None,  # a queued job waits as long as it takes for a model server
        description=f"trapline job {state.id[:8]} ({state.total} files)",
        at_front=at_front,
    )
    return state


def queue_position(redis: Redis, state: JobState) -> int | None:
    """1 for the next job to run; None when not waiting in the queue."""
    if state.status is not JobStatus.QUEUED or not state.rq_id:
        return None
    ids = job_queue(redis).get_job_ids()
    return ids.index(state.rq_id) + 1 if state.rq_id in ids else None
