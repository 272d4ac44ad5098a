"""The job contract between the web site and the model servers.

One queue, named kinds of work each with its job function (by dotted name, so the web never
imports the model server), and one function, `enqueue_job`, that owns every enqueue option and
puts every kind of work on the queue the same way: the request's fields, the record and the RQ
job in one MULTI/EXEC under a WATCH of the record, or nothing at all.

Where each fact lives:
- **The results database** owns what a job *is* and what it *produced*: its run facts (model,
  thresholds, times), every file's detections, reviews, events, deployments, species. Pages that
  show results read it, and nothing in Redis is needed to read them; that a job's results are
  gone (expired, cancelled) is the database's too (`ended_jobs`), so an old link says 410 and
  why long after its live record has lapsed. Redis answers only what is live: a job still
  waiting (409) or running.
- **Redis** owns the *live* part: the queue (RQ), the job's record (`shared.job_record`: status,
  live progress, what the uploader chose until the run has stored it, the follow-up queued or
  running), the leases proving a model server is working on something (`shared.leases`), the
  live model servers (`shared.model_servers`) and the indexes over them (unfinished jobs,
  recent jobs, leases by expiry), so no request and no periodic sweep scans the keyspace.
- **The disk** owns the files: the upload until its run ends, the work folder (checkpoint), the
  result zips and the thumbnails (`shared.storage`).

Every kind of work is written, fenced, leased, recovered and timed alike:
- detect: fenced by the record's `attempt`, leased as `trapline:lease:<id>`, timed by
  `job_timeout`; an orphan (processing, no lease) is queued again at the front to resume;
- a detect's chunks (`shared.chunks`, a job larger than `chunk_images`): fenced by the same
  `attempt`, leased as `trapline:lease:<id>:chunk:<n>`, timed by `job_timeout` of the chunk's
  files; a chunk not stored whose lease lapsed is run again by the job's coordinator;
- follow-ups (export, classify, evaluate against a large truth file, and a project's export
  on the project's own record, `shared.surveys.project_exports`): fenced by the record's
  `follow_up` (its RQ id, which holds the follow-up attempt), leased as
  `trapline:lease:<id>:follow-up`, timed by `follow_up_timeout`; an orphan (running, no lease)
  is queued again once per death of its server, up to the same attempt cap as detection.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from redis import Redis
from redis.exceptions import WatchError
from rq import Queue
from rq.group import Group
from rq.serializers import JSONSerializer

from shared.job_record import (
    RECENT_KEY,
    STATE_PREFIX,
    STATE_TTL_SECONDS,
    UNFINISHED_KEY,
    FollowUpState,
    JobState,
    JobStatus,
    as_text,
    encode,
    index_in_pipeline,
    load_state,
    load_states,
    state_key,
    transition,
    update_fields,
)
from shared.video_options import DEFAULT_MAX_FRAMES

__all__ = [
    "RECENT_KEY",
    "STATE_PREFIX",
    "STATE_TTL_SECONDS",
    "UNFINISHED_KEY",
    "FollowUpState",
    "JobKind",
    "JobState",
    "JobStatus",
    "TransitionRefused",
    "as_kind",
    "as_text",
    "create_state",
    "enqueue_chunks",
    "enqueue_class_upload",
    "enqueue_job",
    "follow_up_attempt_of",
    "follow_up_timeout",
    "job_queue",
    "job_timeout",
    "load_state",
    "load_states",
    "state_key",
    "transition",
    "update_fields",
]

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
    # one export of a whole project (every card's reports and one Camtrap DP package), carried
    # by the project's export record: a finished record of its own (`project` names the
    # project), never an upload's job, so it is fenced, leased, recovered and timed as a
    # follow-up is
    PROJECT_EXPORT = "project_export"
    # the job's detections compared with a truth file too large to compare in a web request
    # (`truth` in the record names the stored files; the report is written beside them)
    EVALUATE = "evaluate"


JOB_FUNCTIONS = {
    JobKind.DETECT: "model_server.service.jobs.process_job",
    JobKind.EXPORT: "model_server.service.exports.export_job",
    JobKind.CLASSIFY: "model_server.service.species_jobs.classify_job",
    JobKind.PROJECT_EXPORT: "model_server.service.project_exports.export_project",
    JobKind.EVALUATE: "model_server.service.evaluations.evaluate_job",
}
# One chunk of a large detect job (`shared.chunks`), queued by `enqueue_chunks`: args are the job
# id, its attempt and the chunk's number
CHUNK_FUNCTION = "model_server.service.chunk_jobs.detect_chunk"
# Examples for a class set, from an uploaded zip: not a job's work, queued by `enqueue_class_upload`
CLASS_UPLOAD_FUNCTION = "model_server.service.species_jobs.add_examples_job"
CLASS_UPLOAD_TIMEOUT = 4 * 3600
JOB_FUNCTION = JOB_FUNCTIONS[JobKind.DETECT]
NOTICE_KEY = "trapline:notice:no-model"
RATE_KEY = "trapline:recent-rate"  # images/s of the last finished job, for queued ETAs
SECONDS_PER_IMAGE_ALLOWANCE = 60  # MegaDetector v4 on a slow CPU, with a wide margin
BASE_TIMEOUT_SECONDS = 600
# A video is up to DEFAULT_MAX_FRAMES detector runs; its length is not known before decoding.
SECONDS_PER_VIDEO_FRAME_ALLOWANCE = 5  # MegaDetector v4 on a slow CPU, about 3x its time
SECONDS_PER_VIDEO_ALLOWANCE = DEFAULT_MAX_FRAMES * SECONDS_PER_VIDEO_FRAME_ALLOWANCE
# A follow-up's own work per stored file, with a wide margin: an export redraws or copies one
# annotated photo (about 50 ms measured) and writes its report rows; a classify embeds its
# animal boxes (about 15 ms a box measured) and then exports; a project's export writes report
# rows only, no pictures; an evaluation compares stored rows (a 64 MB truth file reads in
# about 10 s, within the base allowance).
FOLLOW_UP_SECONDS_PER_FILE = {
    JobKind.EXPORT: 5,
    JobKind.CLASSIFY: 10,
    JobKind.PROJECT_EXPORT: 2,
    JobKind.EVALUATE: 1,
}


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


def follow_up_timeout(kind: JobKind, files: int) -> int:
    """The longest a follow-up may run on a job of `files` stored files: its own work's
    allowance, never detection's."""
    return BASE_TIMEOUT_SECONDS + FOLLOW_UP_SECONDS_PER_FILE[kind] * max(files, 1)


class TransitionRefused(Exception):
    """The job's record is not in a state that allows this change (any more)."""


def create_state(redis: Redis, state: JobState) -> JobState:
    """Writes a whole record: only for a job nobody else can know about yet."""
    key = state_key(state.id)
    pipe = redis.pipeline()
    pipe.hset(key, mapping=state.to_redis())
    pipe.expire(key, STATE_TTL_SECONDS)
    pipe.zadd(RECENT_KEY, {state.id: state.created_at})
    index_in_pipeline(pipe, state.id)
    pipe.execute()
    return state


def enqueue_job(
    redis: Redis,
    state: JobState,
    *,
    kind: JobKind = JobKind.DETECT,
    at_front: bool = False,
    allowed: Iterable[JobStatus] | None = None,
    expect_attempt: int | None = None,
    request: Mapping[str, Any] | None = None,
    replaces: str | None = None,
) -> JobState:
    """The only place work is put on the queue. The record and the queue entry are written in
    one MULTI/EXEC, so a Redis drop can never leave a job `queued` without an RQ job.

    Detect: with `allowed`, the record must be in one of those statuses (checked under WATCH),
    else TransitionRefused; with `expect_attempt`, it must still be on that attempt. Each detect
    attempt gets its own RQ id so that a job released by a stopping model server can be queued
    again while RQ still records the old one.

    Follow-ups need a finished job and leave its status alone. `request` holds the fields the
    request sets (`export_photos`, `classify`): written in the same MULTI as the queue entry, so
    a refused request changes nothing. Refused while another follow-up waits or runs, unless
    `replaces` names it (recovery queueing again the follow-up of a dead server)."""
    key = state_key(state.id)
    with redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                current = pipe.hgetall(key)
                found = JobState.from_redis(current) if current else None  # type: ignore[arg-type]
                if kind is not JobKind.DETECT:
                    _queue_follow_up(redis, pipe, state, kind, found, request or {}, replaces)
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
            key, mapping=encode({**changes, "error": state.error, "finished_at": state.finished_at})
        )
    else:
        pipe.hset(key, mapping=state.to_redis())
        pipe.hset(key, mapping=encode(changes))
        pipe.zadd(RECENT_KEY, {state.id: state.created_at})
        pipe.zremrangebyscore(RECENT_KEY, "-inf", time.time() - STATE_TTL_SECONDS)
    pipe.expire(key, STATE_TTL_SECONDS)
    index_in_pipeline(pipe, state.id)
    _rq_enqueue(
        redis, pipe, JobKind.DETECT, state, rq_id, at_front, job_timeout(state.total, state.videos)
    )
    pipe.execute()
    state.attempt, state.rq_id, state.status, state.cancel_requested = (
        attempt,
        rq_id,
        JobStatus.QUEUED,
        False,
    )


def _queue_follow_up(
    redis: Redis,
    pipe: Any,
    state: JobState,
    kind: JobKind,
    found: JobState | None,
    request: Mapping[str, Any],
    replaces: str | None,
) -> None:
    if found is None or found.status is not JobStatus.FINISHED:
        raise TransitionRefused(
            f"the job is {found.status.value if found else 'gone'}; only a finished job can "
            f"have its {kind.value} done"
        )
    if found.follow_up != (replaces or ""):
        if replaces is not None:
            raise TransitionRefused("its follow-up was queued again or ended meanwhile")
        raise TransitionRefused(
            f"the job's {found.follow_up_kind or 'other work'} is already waiting or running"
        )
    attempt = found.follow_up_attempt + 1
    rq_id = f"{state.id}-{kind.value}-{attempt}"
    changes = {
        **request,
        "follow_up": rq_id,
        "follow_up_kind": kind.value,
        "follow_up_attempt": attempt,
        "follow_up_state": FollowUpState.QUEUED,
        "export_progress": {"stage": "queued", "done": 0},
    }
    if replaces is None:
        changes |= {"follow_up_crashes": 0, "follow_up_error": ""}
    pipe.multi()
    pipe.hset(state_key(state.id), mapping=encode(changes))
    index_in_pipeline(pipe, state.id)
    files = int(request.get("total", found.total))  # a project's export counts its media anew
    _rq_enqueue(redis, pipe, kind, found, rq_id, False, follow_up_timeout(kind, files))
    pipe.execute()
    for name, value in changes.items():
        setattr(state, name, value)


def _rq_enqueue(
    redis: Redis,
    pipe: Any,
    kind: JobKind,
    state: JobState,
    rq_id: str,
    at_front: bool,
    timeout: int,
) -> None:
    job_queue(redis).enqueue(
        JOB_FUNCTIONS[kind],
        args=(state.id,),
        job_id=rq_id,
        job_timeout=timeout,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        ttl=None,  # a queued job waits as long as it takes for a model server
        description=f"trapline {kind.value} {state.id[:8]} ({state.total} files)",
        at_front=at_front,
        pipeline=pipe,
    )


def enqueue_class_upload(redis: Redis, upload_id: int, rq_id: str = "") -> str:
    """Queues the model server's work on an upload of example photos for a class set (its
    status lives in the results database, `class_uploads`); `rq_id` names an attempt after the
    first (recovery)."""
    rq_id = rq_id or f"class-upload-{upload_id}"
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


def enqueue_chunks(
    redis: Redis, job_id: str, attempt: int, chunks: Mapping[int, tuple[int, int]]
) -> list[str]:
    """Queues chunks of a detect job's attempt, at the front (the job is running: its chunks
    go before jobs that wait), in order, as one RQ group named after the attempt. `chunks` maps
    each chunk's number to its (files, videos), which set its timeout."""
    queue = job_queue(redis)
    datas = [
        Queue.prepare_data(
            CHUNK_FUNCTION,
            args=(job_id, attempt, number),
            job_id=f"{job_id}-{attempt}-chunk-{number}",
            timeout=job_timeout(files, videos),
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"trapline chunk {number} of {job_id[:8]} ({files} files)",
            at_front=True,
        )
        # each goes to the front in turn: the last pushed is taken first
        for number, (files, videos) in sorted(chunks.items(), reverse=True)
    ]
    group = Group.create(redis, name=f"{job_id}-{attempt}-chunks")
    return [job.id for job in group.enqueue_many(queue, datas)]


def follow_up_attempt_of(rq_id: str) -> int:
    """A follow-up's attempt from its RQ id (`<id>-<kind>-<attempt>`); 0 for ids of the release
    before attempts were counted (a random token)."""
    tail = rq_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def as_kind(raw: str) -> JobKind | None:
    try:
        return JobKind(raw)
    except ValueError:
        return None
