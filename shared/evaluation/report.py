"""One evaluation from start to end: pair the results with the truth, compute the figures, say
what could not be compared. The job page, the API and `trapline-evaluate` all call this."""

from __future__ import annotations

from typing import Any

from shared.evaluation.metrics import Flagged, evaluate, flagged_among
from shared.evaluation.model import Predicted, TruthSet
from shared.evaluation.pairing import LISTED, pair


def against_truth(
    predicted: list[Predicted],
    truth: TruthSet,
    threshold: float,
    *,
    recall: float | None = None,
    recall_label: str = "animal",
    flagged: Flagged | None = None,
    listed: int = LISTED,
) -> dict[str, Any]:
    """`flagged` counts images over the whole job; without it, over `predicted`."""
    paired = pair(predicted, truth)
    report = evaluate(
        paired.pairs,
        threshold,
        recall=recall,
        recall_label=recall_label,
        flagged=flagged or flagged_among(predicted),
    )
    report["truth"] = {
        "format": truth.source,
        "notes": truth.notes,
        "files": len(truth.items) + len(truth.unusable),
    }
    report["unpaired"] = paired.listing(listed)
    return report


def recall_sentence(target: dict[str, Any]) -> str:
    """What `recall_target` found, said the way a researcher plans review with it."""
    if target["threshold"] is None:
        best = target["best_recall"]
        return (
            f"a recall of {target['target']:.0%} for {target['category']} is not reachable: "
            f"the detector's boxes find at most "
            + ("none" if best is None else f"{best:.1%}")
            + " of them"
        )
    precision = target["precision"]
    return (
        f"use {target['threshold']} for a recall of {target['recall']:.1%} of "
        f"{target['category']} (precision "
        + ("n/a" if precision is None else f"{precision:.1%}")
        + f"); you would review {target['images_to_review']:,} images"
    )
