"""Review through the JSON API the results page uses (and scripts may): one action at a time or
a bulk accept, another threshold, and asking for the outputs to be made again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request, url_for

from shared.contract import JobStatus, TransitionRefused
from shared.storage import is_job_id
from shared.store.bulk_review import bulk_accept, undo_bulk
from shared.store.event_tags import tag_event
from shared.store.group_review import GROUP_ACTIONS
from shared.store.queries import job_exists, one_media
from shared.store.reads import job_row
from shared.store.repeat_rules import forget_batch
from shared.store.review import Conflict, ReviewAction, ReviewRefused, apply
from shared.store.thresholds import apply_threshold
from shared.store.undoable import undoable
from web import job_status
from web.access import now, reviewer_name, signed_in
from web.audit_trail import note_job
from web.errors import Refusal
from web.exporting import start_export
from web.repeats import judge_job_group
from web.request_body import LARGEST_ID, is_row_id
from web.results import media_query, store, with_urls

bp = Blueprint("review", __name__)


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ReviewRefused("Send one action as a JSON object.")
    return body


def _int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReviewRefused(f"{name} must be a whole number")
    if not is_row_id(value) and name.endswith("_id"):
        raise ReviewRefused(f"{name} names nothing: ids are whole numbers from 0 to {LARGEST_ID}")
    return value


def action_from(body: dict[str, Any]) -> ReviewAction:
    bbox = body.get("bbox")
    if bbox is not None:
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, (int, float)) for v in bbox)
        ):
            raise ReviewRefused("bbox is [x, y, width, height], each a fraction of the image")
        bbox = tuple(float(v) for v in bbox)
    category, species = body.get("category"), body.get("species")
    if any(v is not None and not isinstance(v, str) for v in (category, species)):
        raise ReviewRefused("category and species are text")
    fields = body.get("fields")
    if fields is not None and not isinstance(fields, dict):
        raise ReviewRefused("fields is an object of {field name: value}")
    user = signed_in()
    return ReviewAction(
        action=str(body.get("action", "")),
        reviewer=reviewer_name(str(body.get("reviewer", ""))),
        user_id=user.id if user is not None else None,
        media_id=_int(body, "media_id"),
        detection_id=_int(body, "detection_id"),
        version=_int(body, "version"),
        review_id=_int(body, "review_id"),
        category=category,
        species=species,
        bbox=bbox,
        frame=_int(body, "frame"),
        fields=fields,
    )


def _job(job_id: str) -> None:
    if not is_job_id(job_id) or not job_exists(store(), job_id):
        abort(404)


@bp.post("/api/jobs/<job_id>/reviews")
def review(job_id: str) -> Any:
    """One action: accept, reject, relabel, empty, add, species, fields, rescue, undo; or
    bulk_accept with a `filter` (the gallery's query fields), tag_event with an `event` id,
    `species` and `count`, reject_group or keep_group with a suspected repeat's `group` id, and
    undo_bulk with the `batch` any of those gave."""
    _job(job_id)
    body = json_body()
    reviewer = reviewer_name(str(body.get("reviewer", "")))
    user = signed_in()
    user_id = user.id if user is not None else None
    if body.get("action") == "bulk_accept":
        query = media_query(body.get("filter") or {})
        bulk = bulk_accept(store(), job_id, query, reviewer, now(), user_id)
        note_job(job_id, "bulk_accept", bulk, typed_name=reviewer)
        return jsonify(bulk), 201
    if body.get("action") == "tag_event":
        tagged = tag_event(
            store(),
            job_id,
            str(body.get("event", "")),
            species=_text_or_none(body.get("species")),
            count=_count_or_none(body.get("count")),
            fields=body.get("fields"),
            reviewer=reviewer,
            now=now(),
            user_id=user_id,
        )
        note_job(job_id, "tag_event", tagged, typed_name=reviewer)
        return jsonify(tagged), 201
    if body.get("action") in GROUP_ACTIONS:
        judged = judge_job_group(job_id, body, reviewer, user_id)
        note_job(job_id, str(body["action"]), judged, typed_name=reviewer)
        return jsonify(judged), 201
    if body.get("action") == "undo_bulk":
        batch = str(body.get("batch", ""))
        undone = undo_bulk(store(), job_id, batch, reviewer, now(), user_id)
        forgotten = forget_batch(store(), batch, by=reviewer, now=now())
        note_job(job_id, "undo_bulk", undone, typed_name=reviewer)
        return jsonify({**undone, "rules_off": forgotten})
    action = action_from(body)
    try:
        done = apply(store(), job_id, action, now())
    except Conflict as exc:  # the person sees the image as it is now
        raise Refusal(str(exc), 409, media=media_item(job_id, exc.media_id)) from exc
    note_job(
        job_id,
        f"review:{action.action}",
        {"media_id": done["media_id"], "review_id": done["review_id"]},
        typed_name=reviewer,
    )
    return jsonify({**done, "media": media_item(job_id, done["media_id"])}), 201


@bp.get("/api/jobs/<job_id>/reviews/undoable")
def undoable_reviews(job_id: str) -> Any:
    """The caller's own changes that can still be undone, oldest first (`?reviewer=` names
    them on a site without accounts), so undo (Z) still works after the page is reloaded."""
    _job(job_id)
    user = signed_in()
    name = str(request.args.get("reviewer", ""))
    if user is None and not name.strip():
        return jsonify(undoable=[])
    found = undoable(store(), job_id, reviewer=name, user_id=user.id if user is not None else None)
    return jsonify(undoable=found)


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refusal("species is text")
    return value


def _count_or_none(value: Any) -> int | None:
    """A whole number of animals; None (or "") takes the event's MaxN as it stands."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Refusal("count is a whole number")
    try:
        return int(value)
    except ValueError:
        raise Refusal("count is a whole number") from None


def media_item(job_id: str, media_id: int) -> dict[str, Any] | None:
    """One media as the gallery and viewer show it, with its picture URLs."""
    found = one_media(store(), job_id, media_id)
    return with_urls(job_id, found) if found else None


@bp.get("/api/jobs/<job_id>/media/<int:media_id>")
def media_one(job_id: str, media_id: int) -> Any:
    found = media_item(job_id, media_id) if is_job_id(job_id) else None
    if found is None:
        abort(404)
    return jsonify(found)


def _threshold(body: dict[str, Any]) -> float | None:
    value = body.get("threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ReviewRefused("threshold is a number above 0, at most 1")
    return float(value)


@bp.post("/api/jobs/<job_id>/threshold")
def threshold(job_id: str) -> Any:
    """Makes another threshold the job's: outcomes, filters and the next export use it."""
    _job(job_id)
    chosen = _threshold(json_body())
    if chosen is None:
        raise Refusal('Give the threshold, for example {"threshold": 0.3}.')
    found = job_row(store(), job_id)
    if found is None or found.finished_at is None:  # the model server still writes outcomes
        raise Refusal(
            "This job is still being processed: its threshold can change once it has finished.",
            409,
        )
    apply_threshold(store(), job_id, chosen)
    note_job(job_id, "threshold", {"threshold": chosen})
    return jsonify(threshold=chosen)


@bp.post("/api/jobs/<job_id>/export")  # the name of the first release, kept for scripts
@bp.post("/api/jobs/<job_id>/exports")  # registered first: url_for gives this one
def export(job_id: str) -> Any:
    """Starts an export job: the zip, Excel, JSON and CSVs made again from the store. JSON body
    (optional): `threshold` to apply first, `photos` false for the reports alone."""
    state = job_status.job_or_404(job_id)
    body = request.get_json(silent=True) or {}
    chosen = _threshold(body if isinstance(body, dict) else {})
    if state.status is not JobStatus.FINISHED:
        raise Refusal(f"Not exported: the job is {state.status.value}.", 409)
    if chosen is not None:
        apply_threshold(store(), job_id, chosen)
    photos = not (isinstance(body, dict) and body.get("photos") is False)
    try:
        start_export(state, photos)
    except TransitionRefused as exc:
        raise Refusal(f"Not exported: {exc}.", 409) from exc
    note_job(job_id, "export", {"photos": photos, "threshold": chosen})
    payload = job_status.status_payload(job_status.job_or_404(job_id))
    return (
        jsonify({**payload, "photos": photos}),
        202,
        {"Location": url_for("api.job_status", job_id=job_id, _external=True)},
    )
