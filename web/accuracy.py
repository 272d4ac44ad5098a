"""How good the detections were: the job's Accuracy page and `/api/jobs/<id>/evaluation`,
against the researcher's own review or against a ground-truth file they upload. Truth files up
to `truth_inline_bytes` are compared in the request; larger ones are stored and compared by a
model server (an EVALUATE follow-up), whose report the page and
`/api/jobs/<id>/evaluation/truth` show when it is written."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from shared.categories import LABELS
from shared.contract import JobKind, TransitionRefused, enqueue_job, load_state
from shared.errors import TruthError
from shared.evaluation.metrics import evaluate
from shared.evaluation.model import NON_EMPTY
from shared.evaluation.report import recall_sentence
from shared.evaluation.stored_truth import discard, read_report, store_request
from shared.evaluation.truth_files import read_truth_files
from shared.storage import Storage
from shared.store.evaluation_data import flagged_in_job, job_against_truth, reviewed_pairs
from web import job_status, resources
from web.charts.curves import precision_recall
from web.errors import Refusal
from web.results import job_threshold, missing, store

bp = Blueprint("accuracy", __name__)


def recall_wanted(raw: str) -> float | None:
    """A recall as people write it: "95%", "95" or "0.95" are all 0.95."""
    text = raw.strip()
    if not text:
        return None
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%").strip())
    except ValueError:
        raise Refusal("recall is a percentage (95%) or a fraction (0.95)") from None
    if percent or 1 < value <= 100:
        value /= 100
    if not 0 < value <= 1:
        raise Refusal("recall is a percentage above 0 and at most 100% (or 0-1)")
    return value


def options_from(args: Mapping[str, Any], default: float) -> dict[str, Any]:
    def fraction(name: str) -> float | None:
        raw = str(args.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise Refusal(f"{name} must be a number") from None
        if not 0 < value <= 1:
            raise Refusal(f"{name} is a number above 0, at most 1")
        return value

    label = str(args.get("category") or "animal").strip().lower()
    if label not in (*LABELS, NON_EMPTY):
        raise Refusal("category is animal, person, vehicle or non-empty")
    return {
        "threshold": fraction("threshold") or default,
        "recall": recall_wanted(str(args.get("recall") or "")),
        "recall_label": label,
    }


def _from_review(job_id: str, options: dict[str, Any]) -> dict[str, Any]:
    report = evaluate(
        reviewed_pairs(store(), job_id),
        options["threshold"],
        recall=options["recall"],
        recall_label=options["recall_label"],
        flagged=flagged_in_job(store(), job_id),
    )
    report["source"] = "review"
    return report


def _uploads() -> list[FileStorage]:
    found = request.files.getlist("truth")
    if not found:
        raise TruthError("Choose a truth file to upload (field 'truth').")
    return found


def _size(upload: FileStorage) -> int:
    """The file's size as received (werkzeug keeps a large one in a temporary file)."""
    upload.stream.seek(0, os.SEEK_END)
    size = upload.stream.tell()
    upload.stream.seek(0)
    return size


def _from_truth(job_id: str, options: dict[str, Any]) -> dict[str, Any] | None:
    """The figures against the uploaded truth, worked out now when the files are small; None
    when they were large and are queued for a model server (TransitionRefused while other
    work on the job waits or runs)."""
    uploads = _uploads()
    settings = resources.settings()
    if sum(_size(u) for u in uploads) > settings.truth_inline_bytes:
        _queue_truth(job_id, uploads, options)
        return None
    files = {u.filename or "truth": u.read() for u in uploads}
    report = job_against_truth(
        store(), job_id, read_truth_files(files, settings.max_truth_bytes), options
    )
    report["truth"]["uploaded"] = sorted(files)
    return report


def _queue_truth(job_id: str, uploads: list[FileStorage], options: dict[str, Any]) -> None:
    redis = resources.redis()
    state = load_state(redis, job_id)
    if state is None:
        raise TransitionRefused("the job's record is gone; its results can no longer be compared")
    job_folder = Storage(resources.settings().data_dir).truth_dir(job_id)
    token = store_request(job_folder, [(u.filename or "truth", u.save) for u in uploads], options)
    try:
        enqueue_job(redis, state, kind=JobKind.EVALUATE, request={"truth": token})
    except TransitionRefused:
        discard(job_folder / token)
        raise


def stored_truth(job_id: str) -> dict[str, Any]:
    """The comparison a model server made or is making: `waiting` (queued or running), and the
    last `report` it wrote (None: none yet), whose `error` says why its truth was unreadable."""
    state = load_state(resources.redis(), job_id)
    waiting = (
        state.follow_up_state or "queued"
        if state is not None and state.follow_up and state.follow_up_kind == JobKind.EVALUATE
        else None
    )
    report = read_report(Storage(resources.settings().data_dir).truth_dir(job_id))
    if report is not None and "error" not in report:
        report = finished(report)
    return {"waiting": waiting, "report": report}


def finished(report: dict[str, Any]) -> dict[str, Any]:
    if report["recall_target"]:
        report["recall_target"]["sentence"] = recall_sentence(report["recall_target"])
    return report


@bp.get("/api/jobs/<job_id>/evaluation")
def evaluation(job_id: str) -> Any:
    """The figures on the images a person reviewed (`?threshold=&recall=&category=`)."""
    stored = job_threshold(job_id)
    if stored is None:
        return missing(job_id)
    return jsonify(finished(_from_review(job_id, options_from(request.args, stored))))


@bp.post("/api/jobs/<job_id>/evaluation")
def evaluation_against_truth(job_id: str) -> Any:
    """The figures against an uploaded truth file (multipart field `truth`, one or more); 202
    with where to read them when the files are large enough to be compared by a model
    server."""
    stored = job_threshold(job_id)
    if stored is None:
        return missing(job_id)
    report = _from_truth(job_id, options_from(request.form, stored))
    if report is None:
        where = url_for("accuracy.truth_report", job_id=job_id, _external=True)
        answer = {"status": "queued", "report_url": where}
        return jsonify(answer), 202, {"Location": where}
    return jsonify(finished(report))


@bp.get("/api/jobs/<job_id>/evaluation/truth")
def truth_report(job_id: str) -> Any:
    """The figures against the last truth file a model server compared: 202 while one is
    queued or running, 422 when its truth could not be read, 404 when none was sent."""
    if job_threshold(job_id) is None:
        return missing(job_id)
    found = stored_truth(job_id)
    if found["waiting"]:
        return jsonify({"status": found["waiting"]}), 202, {"Retry-After": "5"}
    report = found["report"]
    if report is None:
        raise Refusal("No truth file large enough for a model server was sent for this job.", 404)
    if "error" in report:
        return jsonify(report), 422
    return jsonify(report)


@bp.route("/jobs/<job_id>/accuracy", methods=["GET", "POST"])
def page(job_id: str) -> Any:
    """The Accuracy page: figures against the review; a truth file posted here adds figures
    against it."""
    state = job_status.job_or_404(job_id)
    stored = job_threshold(job_id)
    if stored is None:
        return missing(job_id)
    args = request.form if request.method == "POST" else request.args
    error, truth, status = "", None, 400
    try:
        options = options_from(args, stored)
    except Refusal as exc:  # the page shows why, with the defaults
        options = options_from({}, stored)
        error = str(exc)
    if request.method == "POST" and not error:
        try:
            report = _from_truth(job_id, options)
        except TruthError as exc:
            error = str(exc)
        except TransitionRefused as exc:
            error, status = f"Not compared now: {exc}.", 409
        else:
            if report is None:  # queued: the page says so until the report is in
                return redirect(url_for("accuracy.page", job_id=job_id), 303)
            truth = finished(report)
    background = stored_truth(job_id)
    done = background["report"]
    if truth is None and not background["waiting"] and done and "error" not in done:
        truth = done
    review = finished(_from_review(job_id, options))
    charts = {"review": precision_recall(review["curves"])}
    if truth:
        charts["truth"] = precision_recall(
            truth["curves"], title="Precision and recall against the truth file"
        )
    return render_template(
        "accuracy.html",
        job=job_status.status_payload(state),
        review=review,
        truth=truth,
        background=background,
        charts=charts,
        options=options,
        error=error,
        job_threshold=stored,
        truth_inline_bytes=resources.settings().truth_inline_bytes,
    ), status if error else 200
