"""A project's export under the job contract: each project has one export record in Redis, a
finished record of its own that names the project (`JobState.project`), and every export of the
project is a PROJECT_EXPORT follow-up on it, queued by `enqueue_job`, fenced by its RQ id,
leased, recovered after a model server dies and timed by the project's media count, exactly as
a job's export is. The record is not an upload: no job page shows it and the admin's list of
recent jobs leaves it out. Its id lives under `EXPORT_KEY`; when the record lapses (60 days
after its last export) the next request makes a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import WatchError

from shared.contract import (
    STATE_TTL_SECONDS,
    JobKind,
    JobState,
    JobStatus,
    as_text,
    enqueue_job,
    load_state,
    state_key,
)
from shared.storage import new_job_id

EXPORT_KEY = "trapline:project-export:{}"


@dataclass(frozen=True)
class ExportStatus:
    """What the project's pages and API say about its export."""

    state: JobState | None

    @property
    def busy(self) -> bool:
        return self.state is not None and bool(self.state.follow_up)

    def public(self) -> dict[str, Any]:
        s = self.state
        if s is None:
            return {"state": "none", "exported_at": None, "summary": {}, "error": None}
        return {
            "state": s.follow_up_state or ("done" if s.exported_at else "none"),
            "progress": s.export_progress or {},
            "exported_at": s.exported_at,
            "summary": s.summary,
            "error": s.follow_up_error or None,
        }


def export_record(redis: Redis, project_id: int) -> JobState | None:
    """The project's export record, None before its first export (or once it lapsed)."""
    raw = redis.get(EXPORT_KEY.format(int(project_id)))
    if raw is None:
        return None
    state = load_state(redis, as_text(raw))
    return state if state is not None and state.project == int(project_id) else None


def _record_for(redis: Redis, project_id: int, files: int) -> JobState:
    """The project's record, made with its id in one MULTI under a WATCH of the id's key, so
    two requests at once share one record and a lapsed one is replaced."""
    key = EXPORT_KEY.format(int(project_id))
    with redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                found = export_record(redis, project_id)
                if found is not None:
                    pipe.unwatch()
                    return found
                fresh = JobState(
                    id=new_job_id(), status=JobStatus.FINISHED, project=int(project_id), total=files
                )
                fresh.finished_at = fresh.created_at
                pipe.multi()
                pipe.set(key, fresh.id, ex=STATE_TTL_SECONDS)
                pipe.hset(state_key(fresh.id), mapping=fresh.to_redis())
                pipe.expire(state_key(fresh.id), STATE_TTL_SECONDS)
                pipe.execute()
                return fresh
            except WatchError:
                continue


def request_export(redis: Redis, project_id: int, files: int) -> JobState:
    """Queues the project's export over `files` stored media; TransitionRefused while one
    waits or runs."""
    state = _record_for(redis, project_id, files)
    for key in (EXPORT_KEY.format(int(project_id)), state_key(state.id)):
        redis.expire(key, STATE_TTL_SECONDS)  # both live 60 days after the last export
    return enqueue_job(
        redis,
        state,
        kind=JobKind.PROJECT_EXPORT,
        request={"total": files},
    )


def forget_export(redis: Redis, project_id: int) -> None:
    """A deleted project's record and its id (its zip is the caller's to remove)."""
    state = export_record(redis, project_id)
    key = EXPORT_KEY.format(int(project_id))
    if state is not None:
        redis.delete(state_key(state.id))
    redis.delete(key)
