"""A project's results across all its uploads, for scripts and the project's pages: a page of
media (the job media API's filters and orders, plus `job=`), the counts, events across cards,
and review actions on any of its media. Each answer holds only the uploads the caller may see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from shared.evaluation.metrics import evaluate
from shared.events.model import DEFAULT_EVENT_GAP
from shared.people.projects import Project, job_ids_of
from shared.people.roles import Can, Role
from shared.people.users import User
from shared.store.bulk_review import bulk_accept, undo_bulk
from shared.store.evaluation_data import flagged_in_job, reviewed_pairs
from shared.store.group_review import GROUP_ACTIONS
from shared.store.insights import by_day, by_hour
from shared.store.project_queries import project_media_page, project_summary
from shared.store.queries import MediaQuery
from shared.store.reads import job_row
from shared.store.repeat_rules import forget_batch
from shared.store.review import Conflict, NotInJob, ReviewAction, apply
from shared.store.schema import detections, media, reviews
from shared.store.undoable import undoable
from shared.surveys.events import card_of, project_events
from shared.surveys.periods import period_scope
from web import resources
from web.access import now, reviewer_name
from web.accuracy import finished, options_from
from web.audit_trail import note
from web.errors import Refusal
from web.events import event_figures
from web.project_repeats import judge_project_group
from web.project_scope import project_gap, sees_all, visible_jobs
from web.projects import project_for
from web.results import media_query, number_arg, with_urls
from web.review import action_from, json_body, media_item

NOTHING_STORED_THRESHOLD = 0.5  # shown with an empty report before any card has finished
bp = Blueprint("project_results", __name__, url_prefix="/api/projects/<int:project_id>")


def project_query(project_id: int, args: Mapping[str, Any]) -> MediaQuery:
    """The job gallery's filters and orders, and a project's own: `period` (a deployment
    period's id) and `location` (every period of one location)."""
    query = media_query(args)
    periods = period_scope(
        resources.results_store(),
        project_id,
        period=number_arg(args, "period", int),
        location=number_arg(args, "location", int),
        now=now(),
    )
    return replace(query, periods=periods)


@bp.get("/media")
def project_media(project_id: int) -> Any:
    project, role, user = project_for(project_id, Can.READ_OWN)
    page = project_media_page(
        resources.results_store(),
        visible_jobs(project.id, role, user),
        project_query(project.id, request.args),
        job=str(request.args.get("job") or ""),
        project=project.id if sees_all(role, user) else None,
    )
    for item in page["media"]:
        with_urls(item["job"], item)
    return jsonify({"project": project.id, **page})


@bp.get("/summary")
def summary(project_id: int) -> Any:
    project, role, user = project_for(project_id, Can.READ_OWN)
    engine = resources.results_store()
    visible = visible_jobs(project.id, role, user)
    counts = project_summary(engine, visible)
    # the newest card's threshold: where the review page's slider starts
    return jsonify(
        {
            "project": project.id,
            "name": project.name,
            "threshold": newest_threshold(visible),
            **counts,
        }
    )


def newest_threshold(job_ids: list[str]) -> float:
    """The threshold of the newest card that has one, else the default shown before any."""
    engine = resources.results_store()
    for job_id in reversed(job_ids):
        row = job_row(engine, job_id)
        if row is not None:
            return float(row.threshold)
    return NOTHING_STORED_THRESHOLD


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def event_listing(
    project: Project, role: Role | None, user: User, args: Mapping[str, Any]
) -> dict[str, Any]:
    """Independent events over every card, one camera location at a time, with the project's
    event gap or `event_gap` (seconds) to try another: what the API and the events page show."""
    gap = project_gap(project, args)
    found = project_events(
        resources.results_store(), project.id, visible_jobs(project.id, role, user), gap, now=now()
    )
    return {
        "project": project.id,
        "event_gap": gap,
        "locations": [
            {
                "id": loc.id,
                "name": loc.name,
                "start": _iso(d.start),
                "end": _iso(d.end),
                "cards": cards,
                "files": len(d.items),
                "events": d.events,
            }
            for loc, d, cards in found.locations
        ],
        "events": [
            {
                "id": e.id,
                "location": e.deployment,
                "start": _iso(e.start),
                "end": _iso(e.end),
                "files": [dict(zip(("job", "path"), card_of(f), strict=True)) for f in e.files],
                "cards": len({card_of(f)[0] for f in e.files}),
                **event_figures(e),
            }
            for e in found.events
        ],
    }


@bp.get("/events")
def project_event_list(project_id: int) -> Any:
    """Independent events over every card (see `event_listing`)."""
    project, role, user = project_for(project_id, Can.READ_OWN)
    return jsonify(event_listing(project, role, user, request.args))


def season_locations(project_id: int, visible: list[str]) -> list[dict[str, Any]]:
    """Each location with its cards, files, detections and position (registered, else the
    median of its photos' GPS fixes)."""
    engine = resources.results_store()
    found = project_events(engine, project_id, visible, DEFAULT_EVENT_GAP, now=now())
    places = []
    for loc, d, cards in found.locations:
        sums = {
            label: sum(i.counts.get(label, 0) for i in d.items)
            for label in ("animal", "person", "vehicle")
        }
        seen = (d.latitude, d.longitude) if d.latitude is not None else None
        place = loc.place or seen
        places.append(
            {
                "id": loc.id,
                "name": loc.name,
                "cards": cards,
                "images": len(d.items),
                **sums,
                "detections": sum(sums.values()),
                "first": _iso(d.start),
                "last": _iso(d.end),
                "latitude": place[0] if place else None,
                "longitude": place[1] if place else None,
                "registered_position": loc.place is not None,
            }
        )
    return places


@bp.get("/insights")
def insights(project_id: int) -> Any:
    """The season's dashboard data: detections by hour and by day over every card, and each
    location with its cards, files, detections and position."""
    project, role, user = project_for(project_id, Can.READ_OWN)
    engine = resources.results_store()
    visible = visible_jobs(project.id, role, user)
    return jsonify(
        project=project.id,
        locations=season_locations(project.id, visible),
        hours=by_hour(engine, visible),
        days=by_day(engine, visible),
    )


def project_evaluation(
    project_id: int, role: Role | None, user: User, args: Mapping[str, Any]
) -> dict[str, Any]:
    """The detector's figures over every reviewed image of every card the caller may see, as
    the API and the project's accuracy page show them."""
    engine = resources.results_store()
    visible = visible_jobs(project_id, role, user)
    runs = [row for job_id in visible if (row := job_row(engine, job_id)) is not None]
    options = options_from(args, newest_threshold(visible))
    pairs = [pair for job_id in visible for pair in reviewed_pairs(engine, job_id)]
    counters = [flagged_in_job(engine, job_id) for job_id in visible]
    report = evaluate(
        pairs,
        options["threshold"],
        recall=options["recall"],
        recall_label=options["recall_label"],
        flagged=lambda label, threshold: sum(c(label, threshold) for c in counters),
    )
    models = sorted({run.model_name for run in runs if run.model_name})
    return {
        **finished(report),
        "source": "review",
        "project": project_id,
        "models": models,
        "options": options,
    }


@bp.get("/evaluation")
def evaluation(project_id: int) -> Any:
    """The detector's figures over every reviewed image of every card the caller may see
    (`?threshold=&recall=&category=` as a job's); the default threshold is the newest card's,
    and `models` names each detector whose boxes are counted."""
    project, role, user = project_for(project_id, Can.READ_OWN)
    found = project_evaluation(project.id, role, user, request.args)
    found.pop("options")
    return jsonify(found)


def _item(job_id: str, media_id: int) -> dict[str, Any] | None:
    found = media_item(job_id, media_id)
    return {**found, "job": job_id} if found else None


def _job_of(action: ReviewAction, job_ids: list[str]) -> str:
    """The upload the action's media, box or review belongs to, if it is this project's."""
    if action.media_id is not None:
        which = select(media.c.job_id).where(media.c.id == action.media_id)
    elif action.detection_id is not None:
        which = (
            select(media.c.job_id)
            .join(detections, detections.c.media_id == media.c.id)
            .where(detections.c.id == action.detection_id)
        )
    elif action.review_id is not None:
        which = select(reviews.c.job_id).where(reviews.c.id == action.review_id)
    else:
        raise Refusal("Name the media: media_id (from the project's media API).")
    with resources.results_store().connect() as conn:
        job_id = conn.execute(which).scalar()
    if job_id is None or job_id not in job_ids:
        raise Refusal("This project has no such media.", 404)
    return str(job_id)


def _undo_bulk(
    project_id: int, token: str, job_ids: list[str], who: str, user_id: int
) -> dict[str, Any]:
    """Undoes a project's bulk action (its token from the answer: a bulk accept, a repeated
    group's reject or keep) on every card it touched."""
    parts = [part.partition(":") for part in token.split(",") if part]
    if not parts or any(job not in job_ids or not batch for job, _, batch in parts):
        raise Refusal("There is no such bulk action in this project.", 404)
    undone = kept = 0
    for job_id, _, batch in parts:
        try:
            found = undo_bulk(resources.results_store(), job_id, batch, who, now(), user_id)
        except NotInJob:
            continue  # that card's part was undone already
        undone, kept = undone + int(found["undone"]), kept + int(found.get("kept", 0))
    forgotten = forget_batch(resources.results_store(), token, by=who, now=now())
    note(project_id, "undo_bulk", {"undone": undone, "uploads": len(parts)})
    return {"undone": undone, "kept": kept, "rules_off": forgotten}


@bp.get("/reviews/undoable")
def undoable_reviews(project_id: int) -> Any:
    """The caller's own changes on the project's cards that can still be undone, oldest first
    (a bulk accept one card at a time), so undo (Z) still works after a reload."""
    project, role, user = project_for(project_id, Can.REVIEW)
    found = undoable(
        resources.results_store(),
        visible_jobs(project.id, role, user),
        reviewer="",
        user_id=user.id,
    )
    return jsonify(undoable=found)


@bp.post("/reviews")
def review(project_id: int) -> Any:
    """The job review API's actions on any media of the project (`media_id` names it), and
    `bulk_accept` with a `filter` (the media API's fields, `job` among them) over every upload."""
    project, _, user = project_for(project_id, Can.REVIEW)
    body = json_body()
    job_ids = job_ids_of(resources.results_store(), project.id)
    who = reviewer_name(str(body.get("reviewer", "")))
    if body.get("action") == "bulk_accept":
        wanted = dict(body.get("filter") or {})
        one = str(wanted.pop("job", "") or "")
        if one and one not in job_ids:
            raise Refusal("job is not one of this project's uploads.")
        query = project_query(project.id, wanted)
        batches = {
            job_id: bulk_accept(resources.results_store(), job_id, query, who, now(), user.id)
            for job_id in ([one] if one else job_ids)
        }
        images = sum(b["images"] for b in batches.values())
        note(project.id, "bulk_accept", {"images": images, "uploads": len(batches)})
        # one token to undo it all: each card's own batch, named with its card
        token = ",".join(f"{j}:{b['batch']}" for j, b in batches.items() if b["images"])
        return jsonify(
            images=images, batch=token, batches={j: b["batch"] for j, b in batches.items()}
        ), 201
    if body.get("action") == "undo_bulk":
        return jsonify(_undo_bulk(project.id, str(body.get("batch", "")), job_ids, who, user.id))
    if body.get("action") in GROUP_ACTIONS:
        judged = judge_project_group(project, user, str(body["action"]), body.get("group"), who)
        note(project.id, str(body["action"]), judged)
        return jsonify(judged), 201
    action = action_from(body)
    job_id = _job_of(action, job_ids)
    try:
        done = apply(resources.results_store(), job_id, action, now())
    except Conflict as exc:  # the person sees the image as it is now
        raise Refusal(str(exc), 409, media=_item(job_id, exc.media_id)) from exc
    note(
        project.id,
        f"review:{action.action}",
        {"job": job_id, "media_id": done["media_id"], "review_id": done["review_id"]},
    )
    return jsonify({**done, "job": job_id, "media": _item(job_id, done["media_id"])}), 201
