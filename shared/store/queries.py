"""The site's questions about a job, each answered by a few indexed queries: a page of media
with their detections (filtered and ordered), and the job's counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, case, exists, func, select

from shared.categories import CATEGORY_IDS, CATEGORY_LABELS
from shared.model_facts import ModelFacts
from shared.store.event_pages import EventIndex, event_index
from shared.store.figures import FigureTally
from shared.store.final_counts import (
    counted_machine_box,
    final_outcome,
    final_sums,
    is_reviewed,
)
from shared.store.reads import aware, detections_of
from shared.store.records import OUTCOMES, outcomes_with
from shared.store.schema import detections, jobs, media, reviews

# A file's least certain species suggestion: the smallest margin between its boxes' answer and
# runner-up ("unknown" counts as no margin at all); files without a suggestion come last.
_SPECIES_DOUBT = (
    select(
        func.min(
            case(
                (detections.c.suggested_species == "unknown", 0.0),
                else_=detections.c.species_margin,
            )
        )
    )
    .where(detections.c.media_id == media.c.id, detections.c.suggested_species.is_not(None))
    .scalar_subquery()
)

# Files without a capture time or a detection come last in both databases; each order but
# the confidence and species ones follows an index, so no page sorts the whole job.
ORDERS = {
    "path": (media.c.ordinal, media.c.id),
    "captured": (media.c.captured.asc().nulls_last(), media.c.ordinal),
    "confidence": (media.c.max_conf.desc().nulls_last(), media.c.ordinal),
    "uncertain": (media.c.doubt.asc().nulls_last(), media.c.ordinal),
    "species_uncertain": (_SPECIES_DOUBT.asc().nulls_last(), media.c.ordinal),
    # by deployment, then capture time (a page is cut from the order worked out in Python)
    "event": (media.c.ordinal, media.c.id),
}
REVIEWED = {"": None, "yes": True, "no": False}

MAX_PER_PAGE = 500


class BadQuery(ValueError):
    """A filter or order the API does not know; the message says which."""


@dataclass(frozen=True)
class MediaQuery:
    outcome: str = ""  # animal | person | vehicle | empty | error; "" for all
    folder: str | None = None  # None for all; "" is the top level
    category: str = ""  # with a category, the confidence range is that category's boxes'
    min_conf: float | None = None
    max_conf: float | None = None
    reviewed: str = ""  # yes | no; "" for all
    suppressed: str = ""  # yes: files with a box a repeat rule suppressed; no: without; "" all
    order: str = "path"
    page: int = 1
    per_page: int = 50
    event: str = ""  # one event's files (an id from the events API); "" for all
    paths: frozenset[str] | None = None  # the event's files, filled in by `with_event`
    # a project's deployment periods (one, or a location's), filled in by the project's API
    periods: frozenset[int] | None = None

    def check(self) -> None:
        if self.outcome and self.outcome not in OUTCOMES:
            raise BadQuery(f"outcome must be one of {', '.join(OUTCOMES)}")
        if self.category and self.category not in CATEGORY_IDS:
            raise BadQuery("category must be animal, person or vehicle")
        if self.reviewed not in REVIEWED:
            raise BadQuery("reviewed must be yes or no")
        if self.suppressed not in REVIEWED:
            raise BadQuery("suppressed must be yes or no")
        if self.order not in ORDERS:
            raise BadQuery(f"order must be one of {', '.join(ORDERS)}")
        if self.page < 1 or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadQuery(f"page starts at 1; per_page is 1 to {MAX_PER_PAGE}")
        for value in (self.min_conf, self.max_conf):
            if value is not None and not 0.0 <= value <= 1.0:
                raise BadQuery("min_conf and max_conf are between 0 and 1")
        if len(self.event) > 40:
            raise BadQuery("event is an id such as E000012")


def with_event(
    engine: Engine, job_id: str, query: MediaQuery
) -> tuple[MediaQuery, EventIndex | None]:
    """The query with its event's files resolved, and the job's events when the query needs
    them (an event filter or the event order)."""
    if not query.event and query.order != "event":
        return query, None
    index = event_index(engine, job_id)
    if not query.event:
        return query, index
    files = index.files_of(query.event.upper())
    if files is None:
        raise BadQuery(f"this job has no event {query.event}")
    return replace(query, paths=files), index


def filtered(
    job_id: str | Sequence[str], query: MediaQuery, *columns: Any, project: int | None = None
) -> Select[Any]:
    """The query's filters over one job's media, or over several jobs' (a project's); with
    `project`, over every media of that project (one index range, walked in order)."""
    if project is not None:
        scope = media.c.project_id == project
    elif isinstance(job_id, str):
        scope = media.c.job_id == job_id
    else:
        scope = media.c.job_id.in_(job_id)
    stmt = select(*columns).where(scope)
    if query.outcome:
        stmt = stmt.where(media.c.outcome.in_(outcomes_with(query.outcome)))
    if query.folder is not None:
        stmt = stmt.where(media.c.folder == query.folder)
    if query.paths is not None:
        stmt = stmt.where(media.c.path.in_(sorted(query.paths)))
    if query.periods is not None:
        stmt = stmt.where(media.c.period_id.in_(sorted(query.periods)))
    if REVIEWED[query.reviewed] is not None:
        stmt = stmt.where(
            (media.c.review != "") if REVIEWED[query.reviewed] else (media.c.review == "")
        )
    if REVIEWED[query.suppressed] is not None:
        held = exists().where(
            detections.c.media_id == media.c.id, detections.c.suppressed_by.is_not(None)
        )
        stmt = stmt.where(held if REVIEWED[query.suppressed] else ~held)
    if query.category:
        return stmt.where(exists().where(_boxes_in_range(query)))
    if query.min_conf is not None:
        stmt = stmt.where(media.c.max_conf >= query.min_conf)
    if query.max_conf is not None:
        stmt = stmt.where(func.coalesce(media.c.max_conf, 0.0) <= query.max_conf)
    return stmt


def _boxes_in_range(query: MediaQuery) -> Any:
    """A detector's box of the query's category within its confidence range."""
    terms = [
        detections.c.media_id == media.c.id,
        counted_machine_box(),
        detections.c.category == CATEGORY_IDS[query.category],
    ]
    if query.min_conf is not None:
        terms.append(detections.c.confidence >= query.min_conf)
    if query.max_conf is not None:
        terms.append(detections.c.confidence <= query.max_conf)
    return and_(*terms)


def _detection_json(d: dict[str, Any]) -> dict[str, Any]:
    verified = d.get("verified_category")
    return {
        "id": d["id"],
        "category": CATEGORY_LABELS.get(d["category"], d["category"]),
        "confidence": d["conf"],
        "bbox": d["bbox"],
        "source": d["source"],
        "review": d["verdict"] or "",
        "verified_category": CATEGORY_LABELS.get(verified, verified) if verified else None,
        "species": d["species"],
        "reviewer": d["reviewer"],
        "frame": d.get("frame"),
        "suggested_species": d.get("suggested_species"),
        "species_distance": d.get("species_distance"),
        "species_runner_up": d.get("species_runner_up") or None,
        "species_margin": d.get("species_margin"),
        "fields": d.get("fields") or {},
        "suppressed_by": d.get("suppressed_by"),
    }


def media_json(row: Any, dets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "path": row.path,
        "folder": row.folder,
        "kind": row.kind,
        "outcome": row.outcome,
        "max_conf": row.max_conf,
        "counts": {"animal": row.animals, "person": row.persons, "vehicle": row.vehicles},
        "captured": row.captured.isoformat() if row.captured else None,
        "captured_from": row.captured_from,
        "make": row.make,
        "model": row.model,
        "serial": row.serial,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "altitude": row.altitude,
        "width": row.width,
        "height": row.height,
        "failure": row.failure,
        "thumbnail": row.thumbnail or None,
        "view": row.view or None,
        "doubt": row.doubt,
        "review": row.review,
        "verified_outcome": row.verified_outcome,
        "reviewer": row.reviewer,
        "reviewed_at": _iso(row.reviewed_at),
        "version": row.version,
        "detections": [_detection_json(d) for d in dets],
        "video": _video_json(row.video) if row.kind == "video" and row.video else None,
    }


def _video_json(video: dict[str, Any]) -> dict[str, Any]:
    """A video's facts for the site: the checked frames as (number, seconds) pairs."""
    frames = [
        {"number": n, "time": t}
        for n, t in zip(
            video.get("frames_processed") or [], video.get("frame_times") or [], strict=False
        )
    ]
    return {
        "codec": video.get("codec"),
        "frame_rate": video.get("frame_rate"),
        "duration": video.get("duration"),
        "best_frame": video.get("best_frame"),
        "frames": frames,
    }


def job_exists(engine: Engine, job_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(jobs.c.id).where(jobs.c.id == job_id)).first() is not None


def media_page(engine: Engine, job_id: str, query: MediaQuery) -> dict[str, Any]:
    """One page of the job's media, each with its detections (every stored one: the threshold
    is the client's to apply), and how many match in all."""
    query.check()
    query, index = with_event(engine, job_id, query)
    offset = (query.page - 1) * query.per_page
    with engine.connect() as conn:
        if query.order == "event" and index is not None:
            rows, total = _event_page(conn, job_id, query, index, offset)
        else:
            total = conn.execute(filtered(job_id, query, func.count()).order_by(None)).scalar_one()
            rows = list(
                conn.execute(
                    filtered(job_id, query, media)
                    .order_by(*ORDERS[query.order])
                    .limit(query.per_page)
                    .offset(offset)
                ).all()
            )
        dets = detections_of(conn, [r.id for r in rows])
    found = [media_json(r, dets.get(r.id, [])) for r in rows]
    if index is not None:
        for item in found:
            item["event"] = index.summary(item["path"])
    return {
        "job": job_id,
        "page": query.page,
        "per_page": query.per_page,
        "total": total,
        "pages": -(-total // query.per_page),
        "order": query.order,
        "media": found,
    }


def _event_page(
    conn: Connection, job_id: str, query: MediaQuery, index: EventIndex, offset: int
) -> tuple[list[Any], int]:
    """Events are not stored: the filter's ids are put in event order here and a page of them
    read (a 50,000-file job's ids and paths are a few megabytes)."""
    last = len(index.position)
    matches = list(conn.execute(filtered(job_id, query, media.c.id, media.c.path)).all())
    matches.sort(key=lambda m: (index.position.get(m.path, last), m.id))
    wanted = [m.id for m in matches[offset : offset + query.per_page]]
    rows = {r.id: r for r in conn.execute(select(media).where(media.c.id.in_(wanted)))}
    return [rows[i] for i in wanted], len(matches)


def one_media(engine: Engine, job_id: str, media_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(media).where(media.c.id == media_id, media.c.job_id == job_id)
        ).first()
        if row is None:
            return None
        return media_json(row, detections_of(conn, [row.id]).get(row.id, []))


def species_used(engine: Engine, job_id: str) -> list[str]:
    """The species names reviewers gave in this job, most used first, for suggestions (read
    from the job's reviews, a small indexed set, never from all of its detections)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(reviews.c.species)
                .where(
                    reviews.c.job_id == job_id,
                    reviews.c.species.is_not(None),
                    reviews.c.species != "",
                    reviews.c.undone_at.is_(None),
                )
                .group_by(reviews.c.species)
                .order_by(func.count().desc(), reviews.c.species)
                .limit(200)
            ).scalars()
        )


def summary(engine: Engine, job_id: str) -> dict[str, Any] | None:
    """Counts per outcome, per category (images and boxes at the job's threshold) and per
    folder, each file as its review says where it has one; `reviewed` says how many of each
    count a person reviewed. None for an unknown job."""
    with engine.connect() as conn:
        job = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if job is None:
            return None
        # one pass over one covering index: everything else is added up from its rows
        reviewed = is_reviewed()
        folders = conn.execute(
            select(media.c.folder, final_outcome(), reviewed, *final_sums())
            .where(media.c.job_id == job_id)
            .group_by(media.c.folder, final_outcome(), reviewed)
        ).all()
    tally = FigureTally()
    for folder, outcome, was_reviewed, n, *sums in folders:
        tally.add(folder, outcome, bool(was_reviewed), int(n), sums)
    return {
        "job": job_id,
        "model": job.model_name,
        "model_facts": ModelFacts.of_categories(
            job.model_name, (job.model_meta or {}).get("categories") or (), job.threshold
        ).as_json(),
        "threshold": job.threshold,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        **tally.figures(),
        "folders": tally.folder_rows(),
    }


def _iso(moment: Any) -> str | None:
    found = aware(moment)
    return found.isoformat() if found else None
