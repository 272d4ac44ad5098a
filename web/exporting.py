"""Queues an export: a finished job's outputs made again from the store (after review, a new
threshold, or coordinates given for its Camtrap DP package)."""

from __future__ import annotations

from shared.contract import JobKind, JobState, enqueue_job
from web import resources


def start_export(state: JobState, photos: bool = True) -> None:
    """`photos` False makes the small zip of the reports alone. Raises TransitionRefused when
    the job is no longer finished or another follow-up is already under way; the request's
    choice is written with the queue entry, so a refused one changes nothing."""
    enqueue_job(resources.redis(), state, kind=JobKind.EXPORT, request={"export_photos": photos})
