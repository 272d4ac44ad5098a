"""The site's questions about a whole project: a page of media across its uploads (with the job
media API's filters and orders, plus one upload) and the counts over all of them. Events are a
job's own here; across uploads they come with the project's events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, func, select

from shared.categories import CATEGORY_LABELS
from shared.store.queries import (
    ORDERS,
    BadQuery,
    MediaQuery,
    by_label,
    filtered,
    media_json,
    outcome_sums,
)
from shared.store.reads import detections_of
from shared.store.schema import jobs, media


def project_media_page(
    engine: Engine, job_ids: Sequence[str], query: MediaQuery, job: str = ""
) -> dict[str, Any]:
    """One page of the media of `job_ids` (or of `job`, one of them), each naming its job."""
    query.check()
    if query.event or query.order == "event":
        raise BadQuery("events are filtered and ordered on an upload's own page (job=...)")
    if job:
        if job not in job_ids:
            raise BadQuery("job is not one of this project's uploads")
        job_ids = [job]
    query = replace(query, paths=None)
    offset = (query.page - 1) * query.per_page
    scope = list(job_ids)
    with engine.connect() as conn:
        total = conn.execute(filtered(scope, query, func.count()).order_by(None)).scalar_one()
        rows = list(
            conn.execute(
                filtered(scope, query, media)
                .order_by(*ORDERS[query.order], media.c.id)  # ordinals repeat across uploads
                .limit(query.per_page)
                .offset(offset)
            ).all()
        )
        dets = detections_of(conn, [r.id for r in rows])
    found = [{**media_json(r, dets.get(r.id, [])), "job": r.job_id} for r in rows]
    return {
        "page": query.page,
        "per_page": query.per_page,
        "total": total,
        "pages": -(-total // query.per_page),
        "order": query.order,
        "media": found,
    }


def finished_job_ids(engine: Engine, job_ids: Sequence[str]) -> list[str]:
    """Those of `job_ids` whose run has finished, in the order given."""
    with engine.connect() as conn:
        done = set(
            conn.execute(
                select(jobs.c.id).where(
                    jobs.c.id.in_(list(job_ids)), jobs.c.finished_at.is_not(None)
                )
            ).scalars()
        )
    return [job_id for job_id in job_ids if job_id in done]


def project_summary(engine: Engine, job_ids: Sequence[str]) -> dict[str, Any]:
    """Counts per outcome and category over every upload, and each upload's own."""
    scope = list(job_ids)
    with engine.connect() as conn:
        rows = conn.execute(
            select(media.c.job_id, *outcome_sums())
            .where(media.c.job_id.in_(scope))
            .group_by(media.c.job_id, media.c.outcome)
        ).all()
        stored = dict(
            conn.execute(select(jobs.c.id, jobs.c.model_name).where(jobs.c.id.in_(scope))).all()
        )
    outcomes: dict[str, int] = {}
    per_job: dict[str, dict[str, int]] = {}
    boxes = [0, 0, 0]
    for job_id, outcome, n, *sums in rows:
        outcomes[outcome] = outcomes.get(outcome, 0) + n
        per_job.setdefault(job_id, {})[outcome] = n
        boxes = [total + int(s or 0) for total, s in zip(boxes, sums, strict=True)]
    labelled = by_label(outcomes)
    return {
        "images": sum(outcomes.values()),
        "uploads": len(scope),
        "outcomes": labelled,
        "categories": {
            label: {"images": labelled[label], "detections": int(n or 0)}
            for label, n in zip(CATEGORY_LABELS.values(), boxes, strict=True)
        },
        "jobs": [
            {
                "job": job_id,
                "model": stored.get(job_id),
                "images": sum(per_job.get(job_id, {}).values()),
                **by_label(per_job.get(job_id, {})),
            }
            for job_id in scope
        ],
    }
