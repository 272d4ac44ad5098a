"""Deleting a project from the results database: its uploads' results (each as `delete_job`
removes one, remembered in `ended_jobs` as "deleted" so an old link says 410 and why), its
locations and periods, members, audit log and its own class sets, in one transaction, every
table emptied explicitly so it does not matter whether the database enforces foreign keys.
Files and live records are the caller's (`web/project_deletion.py`), after this has
committed: the database is the truth, and a file left by a crash is swept by the cleanup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from shared.store.schema import (
    audit_log,
    class_examples,
    class_sets,
    class_uploads,
    clock_corrections,
    deployment_periods,
    detections,
    ended_jobs,
    event_tags,
    jobs,
    locations,
    media,
    memberships,
    operation_gaps,
    project_jobs,
    projects,
    reviews,
)
from shared.store.writes import utc


@dataclass(frozen=True)
class Removed:
    job_ids: list[str]
    class_set_ids: list[int]


def delete_project(engine: Engine, project_id: int, *, now: datetime) -> Removed | None:
    """None when there is no such project."""
    with engine.begin() as conn:
        if conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is None:
            return None
        job_ids = list(
            conn.execute(
                select(project_jobs.c.job_id).where(project_jobs.c.project_id == project_id)
            ).scalars()
        )
        set_ids = list(
            conn.execute(
                select(class_sets.c.id).where(class_sets.c.project_id == project_id)
            ).scalars()
        )
        if job_ids:
            in_jobs = select(media.c.id).where(media.c.job_id.in_(job_ids)).scalar_subquery()
            conn.execute(delete(reviews).where(reviews.c.job_id.in_(job_ids)))
            conn.execute(delete(event_tags).where(event_tags.c.job_id.in_(job_ids)))
            conn.execute(delete(detections).where(detections.c.media_id.in_(in_jobs)))
            conn.execute(delete(media).where(media.c.job_id.in_(job_ids)))
            conn.execute(delete(jobs).where(jobs.c.id.in_(job_ids)))
            ended = set(
                conn.execute(select(ended_jobs.c.id).where(ended_jobs.c.id.in_(job_ids))).scalars()
            )
            fresh = [j for j in job_ids if j not in ended]
            if fresh:
                conn.execute(
                    insert(ended_jobs),
                    [{"id": j, "why": "deleted", "ended_at": utc(now)} for j in fresh],
                )
        if set_ids:
            conn.execute(delete(class_examples).where(class_examples.c.set_id.in_(set_ids)))
            conn.execute(delete(class_uploads).where(class_uploads.c.set_id.in_(set_ids)))
            conn.execute(delete(class_sets).where(class_sets.c.id.in_(set_ids)))
        in_project = select(locations.c.id).where(locations.c.project_id == project_id)
        in_periods = select(deployment_periods.c.id).where(
            deployment_periods.c.location_id.in_(in_project)
        )
        conn.execute(delete(clock_corrections).where(clock_corrections.c.period_id.in_(in_periods)))
        conn.execute(
            delete(deployment_periods).where(deployment_periods.c.location_id.in_(in_project))
        )
        for table in (operation_gaps, locations, audit_log, memberships, project_jobs):
            conn.execute(delete(table).where(table.c.project_id == project_id))
        conn.execute(delete(projects).where(projects.c.id == project_id))
    return Removed(job_ids, set_ids)
