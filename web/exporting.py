"""Queues an export: a finished job's outputs made again from the store (after review, a new
threshold, or coordinates given for its Camtrap DP package)."""

from __future__ import annotations

from shared.contract import JobKind, JobState, JobStatus, enqueue_job, transition
from web import services


def start_export(state: JobState, photos: bool = True) -> None:
    """`photos` False makes the small zip of the reports alone. Raises TransitionRefused when
    the job is no longer finished or another export is already under way."""
    transition(
        services.redis(),
        state.id,
        (JobStatus.FINISHED,),
        export_photos=photos,
        export_progress={"stage": "queued", "done": 0},
    )
    enqueue_job(services.redis(), state, kind=JobKind.EXPORT)
