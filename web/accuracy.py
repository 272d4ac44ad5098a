"""How good the detections were: the job's Accuracy page and `/api/jobs/<id>/evaluation`,
against the researcher's own review or against a ground-truth file they upload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify, render_template, request

from shared.categories import LABELS
from shared.errors import TruthError
from shared.evaluation.metrics import evaluate
from shared.evaluation.model import NON_EMPTY
from shared.evaluation.report import against_truth, recall_sentence
from shared.evaluation.truth_files import read_truth_files
from shared.store.evaluation_data import flagged_in_job, job_predictions, reviewed_pairs
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


def _from_truth(job_id: str, options: dict[str, Any]) -> dict[str, Any]:
    files = {f.filename or "truth": f.read() for f in request.files.getlist("truth")}
    if not files:
        raise TruthError("Choose a truth file to upload (field 'truth').")
    report = against_truth(
        job_predictions(store(), job_id),
        read_truth_files(files, resources.settings().max_truth_bytes),
        options["threshold"],
        recall=options["recall"],
        recall_label=options["recall_label"],
        flagged=flagged_in_job(store(), job_id),
    )
    report["source"] = "truth"
    report["truth"]["uploaded"] = sorted(files)
    return report


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
    """The figures against an uploaded truth file (multipart field `truth`, one or more)."""
    stored = job_threshold(job_id)
    if stored is None:
        return missing(job_id)
    return jsonify(finished(_from_truth(job_id, options_from(request.form, stored))))


@bp.route("/jobs/<job_id>/accuracy", methods=["GET", "POST"])
def page(job_id: str) -> Any:
    """The Accuracy page: figures against the review; a truth file posted here adds figures
    against it."""
    state = job_status.job_or_404(job_id)
    stored = job_threshold(job_id)
    if stored is None:
        return missing(job_id)
    args = request.form if request.method == "POST" else request.args
    error, truth = "", None
    try:
        options = options_from(args, stored)
    except Refusal as exc:  # the page shows why, with the defaults
        options = options_from({}, stored)
        error = str(exc)
    if request.method == "POST" and not error:
        try:
            truth = finished(_from_truth(job_id, options))
        except TruthError as exc:
            error = str(exc)
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
        charts=charts,
        options=options,
        error=error,
        job_threshold=stored,
    ), 400 if error else 200
