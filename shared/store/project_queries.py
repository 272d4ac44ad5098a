"""The site's questions about a whole project: a page of media across its uploads (with the job
media API's filters and orders, plus one upload) and the counts over all of them. Events are a
job's own here; across uploads they come with the project's events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from shared.store.figures import FigureTally, by_label
from shared.store.final_counts import MACHINE, VERIFIED, final_outcome, final_sums, is_reviewed
from shared.store.queries import (
    ORDERS,
    BadQuery,
    MediaQuery,
    filtered,
    media_json,
)
from shared.store.reads import detections_of
from shared.store.schema import jobs, media


def project_media_page(
    engine: Engine,
    job_ids: Sequence[str],
    query: MediaQuery,
    job: str = "",
    *,
    project: int | None = None,
) -> dict[str, Any]:
    """One page of the media of `job_ids` (or of `job`, one of them), each naming its job.
    `project` says that `job_ids` are every upload of that project: the page is then read
    from the project's own indexes, in order, instead of merging every card's."""
    query.check()
    if query.event or query.order == "event":
        raise BadQuery("events are filtered and ordered on an upload's own page (job=...)")
    if job:
        if job not in job_ids:
            raise BadQuery("job is not one of this project's uploads")
        job_ids = [job]
    query = replace(query, paths=None)
    if job or not _walks_project_index(query):
        project = None  # merged from the cards' own indexes, which cover those filters
    offset = (query.page - 1) * query.per_page
    scope = list(job_ids)

    def where(*columns: Any, of: MediaQuery = query) -> Any:
        return filtered(scope, of, *columns, project=project)

    with engine.connect() as conn:
        if project is None:
            total = conn.execute(where(func.count()).order_by(None)).scalar_one()
        else:  # what the cards keep, less (or only) the few reviewed: no count of every file
            bare = replace(query, reviewed="")
            reviewed = conn.execute(
                where(func.count(), of=bare).where(media.c.review > "").order_by(None)
            ).scalar_one()
            everything = sum(n for _, _, _, n, *_ in _outcome_rows(conn, scope))
            total = {"": everything, "no": everything - reviewed, "yes": reviewed}[query.reviewed]
        rows = _page_rows(conn, where, query, offset)
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


# What a project's own indexes answer in order: upload order and most uncertain first, over
# all its files or over what is (not) reviewed yet. Other filters and orders are answered from
# each card's indexes, which cover them.
PROJECT_ORDERS = ("path", "uncertain")


def _walks_project_index(query: MediaQuery) -> bool:
    return (
        query.order in PROJECT_ORDERS
        and not (query.outcome or query.category or query.event)
        and query.folder is None
        and query.min_conf is None
        and query.max_conf is None
        and query.periods is None
    )


def _page_rows(conn: Connection, where: Any, query: MediaQuery, offset: int) -> list[Any]:
    """The page's rows. "Most uncertain first" puts the files without a doubt (unreadable
    ones) last; read as two index ranges (those with one, then those without), each walked in
    order, as no index keeps NULLs last on both databases."""
    if query.order != "uncertain":
        return list(
            conn.execute(
                where(media)
                .order_by(*ORDERS[query.order], media.c.id)  # ordinals repeat across uploads
                .limit(query.per_page)
                .offset(offset)
            ).all()
        )
    doubted = where(media).where(media.c.doubt.is_not(None))
    rows = list(
        conn.execute(
            doubted.order_by(media.c.doubt, media.c.ordinal, media.c.id)
            .limit(query.per_page)
            .offset(offset)
        ).all()
    )
    if len(rows) == query.per_page:
        return rows
    with_doubt = (
        offset + len(rows)
        if rows or offset == 0
        else conn.execute(
            where(func.count()).where(media.c.doubt.is_not(None)).order_by(None)
        ).scalar_one()
    )
    rest = conn.execute(
        where(media)
        .where(media.c.doubt.is_(None))
        .order_by(media.c.ordinal, media.c.id)
        .limit(query.per_page - len(rows))
        .offset(max(0, offset - with_doubt))
    ).all()
    return rows + list(rest)


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
    """Counts per outcome and category over every upload, and each upload's own, each file as
    its review says where it has one: a finished upload's from the machine's counts it keeps
    (`by_outcome`) corrected by its reviewed files, the others' grouped from their files."""
    scope = list(job_ids)
    with engine.connect() as conn:
        models = dict(
            conn.execute(select(jobs.c.id, jobs.c.model_name).where(jobs.c.id.in_(scope))).all()
        )
        tally = FigureTally()
        for job_id, outcome, reviewed, n, *sums in _outcome_rows(conn, scope):
            tally.add(job_id, outcome, bool(reviewed), int(n), sums)
    per_job = {row["job"]: row for row in tally.group_rows("job")}
    nothing = {"images": 0, **by_label({}), "reviewed": 0, "basis": "machine"}
    return {
        **tally.figures(),
        "uploads": len(scope),
        "jobs": [
            {**per_job.get(job_id, nothing), "job": job_id, "model": models.get(job_id)}
            for job_id in scope
        ],
    }


def _outcome_rows(conn: Connection, job_ids: list[str]) -> list[Any]:
    """(job, outcome, reviewed?, images, animal, person, vehicle boxes) of each upload: a
    finished one's from the counts it keeps (`by_outcome`), each of its reviewed files moved
    from its machine outcome to its verified one; the others' grouped from their files."""
    kept = {
        r.id: r.counts["by_outcome"]
        for r in conn.execute(select(jobs.c.id, jobs.c.counts).where(jobs.c.id.in_(job_ids)))
        if isinstance(r.counts, dict) and isinstance(r.counts.get("by_outcome"), dict)
    }
    rows: list[Any] = [
        (job_id, outcome, False, *values)
        for job_id, counts in kept.items()
        for outcome, values in counts.items()
    ]
    if kept:
        moved = conn.execute(
            select(
                media.c.job_id,
                media.c.outcome,
                media.c.verified_outcome,
                func.count(),
                *(func.sum(c) for c in MACHINE.values()),
                *(func.sum(c) for c in VERIFIED.values()),
            )
            .where(media.c.job_id.in_(list(kept)), media.c.review > "", is_reviewed())
            .group_by(media.c.job_id, media.c.outcome, media.c.verified_outcome)
        ).all()
        for job_id, machine, verified, n, *sums in moved:
            rows.append((job_id, machine, False, -n, *(-int(v or 0) for v in sums[:3])))
            rows.append((job_id, verified, True, n, *sums[3:]))
    live = [job_id for job_id in job_ids if job_id not in kept]
    if live:
        reviewed = is_reviewed()
        rows += conn.execute(
            select(media.c.job_id, final_outcome(), reviewed, *final_sums())
            .where(media.c.job_id.in_(live))
            .group_by(media.c.job_id, final_outcome(), reviewed)
        ).all()
    return rows
