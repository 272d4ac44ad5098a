"""A job's stored results as evaluation sees them: the detector's boxes for every file, and,
for the files a person reviewed, what the review says is really there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, select

from shared.categories import CATEGORY_IDS, CATEGORY_LABELS
from shared.evaluation.metrics import Flagged, Pair
from shared.evaluation.model import NON_EMPTY, Box, Predicted, Truth, TruthSet, bbox_of
from shared.evaluation.report import against_truth
from shared.store.reads import iter_media
from shared.store.records import MediaRecord
from shared.store.schema import detections, media


def predicted_of(record: MediaRecord) -> Predicted:
    """The detector's own boxes at every stored confidence; a reviewer's changes are not."""
    return Predicted(
        record.file,
        [
            Box(CATEGORY_LABELS[d["category"]], bbox_of(d), d["conf"], d.get("frame"))
            for d in record.machine
        ],
        failed=record.failure is not None,
    )


def truth_of_review(record: MediaRecord) -> Truth:
    """What the reviewer confirmed: the image's verified outcome and the boxes they kept,
    changed or drew (with the category they gave)."""
    outcome = record.verified_outcome or "empty"
    labels = frozenset(outcome.split("+")) - {"empty", "error"}
    boxes = [
        Box(
            CATEGORY_LABELS[d.get("verified_category") or d["category"]],
            bbox_of(d),
            frame=d.get("frame"),
        )
        for d in record.kept()
    ]
    return Truth(record.file, labels, boxes if boxes or not labels else None)


def reviewed_pairs(engine: Engine, job_id: str) -> list[Pair]:
    return [
        (predicted_of(r), truth_of_review(r))
        for r in iter_media(engine, job_id, reviewed_only=True)
        if r.failure is None
    ]


def job_predictions(engine: Engine, job_id: str) -> list[Predicted]:
    return [predicted_of(r) for r in iter_media(engine, job_id)]


def flagged_in_job(engine: Engine, job_id: str) -> Flagged:
    """Counts the job's images with a detector box of a label at or above a threshold: the
    images someone would look at if the job used that threshold."""

    def count(label: str, threshold: float) -> int:
        query = (
            select(func.count(func.distinct(detections.c.media_id)))
            .join(media, media.c.id == detections.c.media_id)
            .where(
                media.c.job_id == job_id,
                detections.c.source == "machine",
                detections.c.confidence >= threshold,
            )
        )
        if label != NON_EMPTY:
            query = query.where(detections.c.category == CATEGORY_IDS[label])
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    return count


def job_against_truth(
    engine: Engine, job_id: str, truth: TruthSet, options: Mapping[str, Any]
) -> dict[str, Any]:
    """The job's figures against a truth file, with `options` as the Accuracy page gives them
    (threshold, recall, recall_label): in a web request, or on a model server for large files."""
    report = against_truth(
        job_predictions(engine, job_id),
        truth,
        options["threshold"],
        recall=options["recall"],
        recall_label=options["recall_label"],
        flagged=flagged_in_job(engine, job_id),
    )
    report["source"] = "truth"
    return report
