"""A job's suspected repeated false alarms (a branch, a rock, a post the detector fires on file
after file), for scripts and the Repeats page: grouped location by location from the stored
boxes at the job's threshold, with the job's event gap and camera folder level (or others in
the query, as the events API takes them). The page shows each group as a strip of its crops,
cut from the pictures the site keeps, with the spot drawn on one of its frames."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from werkzeug.security import safe_join

from shared.people.projects import place_of
from shared.repeats.appearance import looks_apart
from shared.repeats.grouping import Box
from shared.store.group_review import judge_group
from shared.store.reads import job_row
from shared.store.repeat_data import BoxPicture, RepeatGroup, box_pictures, job_repeats
from shared.store.repeat_rules import learn_rule, rules_of, suppressed_boxes
from web import job_status, resources
from web.access import now
from web.errors import Refusal
from web.events import event_options
from web.results import job_threshold, missing, store

bp = Blueprint("repeats", __name__)


def job_groups(job_id: str, threshold: float) -> tuple[list[RepeatGroup], dict[str, Any]]:
    """The job's suspected repeats as the settings and the query define them, and those terms."""
    gap, level = event_options(job_row(store(), job_id))
    rules = resources.settings().repeat_rules()
    found = job_repeats(store(), job_id, rules, threshold=threshold, gap_seconds=gap, level=level)
    terms = {"event_gap": gap, "deployment_level": level, "rules": asdict(rules)}
    return found, terms


def judge_job_group(job_id: str, body: dict[str, Any], reviewer: str, user_id: int | None) -> Any:
    """reject_group or keep_group on one of the job's suspected repeats, by its id."""
    threshold = job_threshold(job_id)
    assert threshold is not None  # the caller checked the job
    found, _ = job_groups(job_id, threshold)
    wanted = str(body.get("group", ""))
    group = next((g for g in found if g.id == wanted), None)
    if group is None:
        raise Refusal(f"This job has no suspected repeat {wanted!r}.", 404)
    judged = judge_group(
        store(), job_id, str(body["action"]), group.id, group.box_ids(), reviewer, now(), user_id
    )
    return {**judged, "rule": remember(group, body["action"], str(judged["batch"]), reviewer)}


def remember(group: RepeatGroup, action: Any, batch: str, reviewer: str) -> Any:
    """A rejected group becomes a rule of its location (where its files are at a project's
    location): the rule's public form, or None."""
    if action != "reject_group":
        return None
    rule = learn_rule(
        store(),
        group.group,
        iou_at_least=resources.settings().repeat_iou,
        batch=batch,
        by=reviewer,
        now=now(),
    )
    return rule.public() if rule is not None else None


@bp.get("/api/jobs/<job_id>/repeats")
def job_repeat_groups(job_id: str) -> Any:
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    found, terms = job_groups(job_id, threshold)
    return jsonify(threshold=threshold, **terms, groups=[g.public() for g in found])


CROP_SIZE = 160  # the long side of a crop on the page, pixels
SHOWN = 150  # crops shown per group


@bp.get("/jobs/<job_id>/repeats")
def page(job_id: str) -> Any:
    """The Repeats page: each suspected repeat with its spot, crops and actions."""
    state = job_status.job_or_404(job_id)
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    found, terms = job_groups(job_id, threshold)
    return render_template(
        "repeats.html",
        heading=f"job {job_id[:8]}",
        back_url=url_for("jobs.page", job_id=state.id) + "#results",
        reviews_url=url_for("review.review", job_id=job_id),
        undoable_url=url_for("review.undoable_reviews", job_id=job_id),
        threshold=f"the job's threshold ({threshold})",
        terms=terms,
        groups=page_groups(found, lambda group, box_id: job_id),
        shown=SHOWN,
        rules=rule_strips(place_of(store(), job_id).project_id, [job_id], every=False),
    )


def rule_strips(project_id: int | None, job_ids: list[str], *, every: bool) -> list[dict[str, Any]]:
    """The project's repeat rules as the Repeats page lists them, each with up to SHOWN crops of
    the boxes it suppressed on `job_ids`: those that suppressed any there, or (`every`) all."""
    if project_id is None:
        return []
    held = suppressed_boxes(store(), job_ids, SHOWN)
    listed = []
    for rule in rules_of(store(), project_id):
        here, boxes = held.get(rule.id, (0, []))
        if not here and not every:
            continue
        listed.append(
            {
                **rule.public(),
                "here": here,
                "off_url": url_for("repeat_rules.switch", project_id=project_id, rule_id=rule.id),
                "tiles": [
                    {"box": box_id, "crop": url_for("repeats.crop", job_id=j, box_id=box_id)}
                    for j, box_id in boxes
                ],
            }
        )
    return listed


def page_groups(
    found: list[RepeatGroup], job_of: Callable[[RepeatGroup, int], str]
) -> list[dict[str, Any]]:
    """Each group as the Repeats page shows it: its figures, the picture its spot is drawn on
    and up to SHOWN crops; `job_of(group, box id)` names the card a box is on."""
    shown = {g.id: g.shown(SHOWN) for g in found}
    wanted: dict[str, list[int]] = {}
    for g in found:
        for box_id in [b.id for b, _ in shown[g.id]] + [g.group.leader.id]:
            wanted.setdefault(job_of(g, box_id), []).append(box_id)
    pictures: dict[int, BoxPicture] = {}
    for job_id, box_ids in wanted.items():
        pictures.update(box_pictures(store(), job_id, box_ids))

    def tile(g: RepeatGroup, box: Box, match: float) -> dict[str, Any]:
        found = pictures.get(box.id)
        return {
            "box": box.id,
            "media": box.media_id,
            "path": found.path if found is not None else "",
            "crop": url_for("repeats.crop", job_id=job_of(g, box.id), box_id=box.id),
            "typical": round(match, 2),
            "verdict": box.verdict or "",
            "rescued": box.id in g.rescued,
            "animal": looks_apart(box.appearance),
        }

    leader = {g.id: pictures.get(g.group.leader.id) for g in found}
    return [
        {
            **g.public(),
            "spot": _picture_url(job_of(g, g.group.leader.id), leader[g.id]),
            "tiles": [tile(g, b, match) for b, match in shown[g.id]],
        }
        for g in found
    ]


def _picture_url(job_id: str, picture: BoxPicture | None) -> str:
    if picture is None:
        return ""
    return url_for("results.thumbnail", job_id=job_id, name=picture.picture)


@bp.get("/jobs/<job_id>/repeats/crops/<int:box_id>.jpg")
def crop(job_id: str, box_id: int) -> Any:
    """One box cut from the picture the site keeps of its file, with a little of what is
    around it."""
    from PIL import Image  # here, not at start: a site that never shows a crop never loads it

    found = box_pictures(store(), job_id, [box_id]).get(box_id)
    if found is None:
        abort(404)
    path = safe_join(str(resources.storage().thumbnail_dir(job_id)), found.picture)
    if path is None:
        abort(404)
    try:
        with Image.open(path) as picture:
            width, height = picture.size
            x, y, w, h = found.bbox
            margin_x, margin_y = w * 0.15, h * 0.15
            box = (
                max(0, int((x - margin_x) * width)),
                max(0, int((y - margin_y) * height)),
                min(width, int((x + w + margin_x) * width) + 1),
                min(height, int((y + h + margin_y) * height) + 1),
            )
            piece = picture.convert("RGB").crop(box)
    except FileNotFoundError:
        abort(404)
    piece.thumbnail((CROP_SIZE, CROP_SIZE))
    out = io.BytesIO()
    piece.save(out, "JPEG", quality=85)
    response = Response(out.getvalue(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
