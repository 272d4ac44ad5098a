"""Pairs each result with its truth by the longest common path tail, as reused results are
matched, and lists everything that could not be paired instead of dropping it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from shared.categories import CATEGORY_LABELS
from shared.evaluation.model import Box, Predicted, Truth, TruthSet, bbox_of
from shared.md_results import TailIndex

LISTED = 200  # names listed per kind in a web answer; the counts are always complete


@dataclass
class Paired:
    pairs: list[tuple[Predicted, Truth]] = field(default_factory=list)
    results_without_truth: list[str] = field(default_factory=list)
    truth_without_result: list[str] = field(default_factory=list)
    not_evaluated: dict[str, str] = field(default_factory=dict)  # file -> why

    def listing(self, most: int = LISTED) -> dict[str, Any]:
        """What could not be paired, counted, with up to `most` names of each kind."""
        lists = {
            "results_without_truth": self.results_without_truth,
            "truth_without_result": self.truth_without_result,
        }
        out: dict[str, Any] = {
            key: {"count": len(v), "files": v[:most]} for key, v in lists.items()
        }
        reasons = sorted(self.not_evaluated.items())
        out["not_evaluated"] = {
            "count": len(reasons),
            "files": [{"file": f, "reason": r} for f, r in reasons[:most]],
        }
        return out


def pair(predicted: list[Predicted], truth: TruthSet) -> Paired:
    index = TailIndex([*truth.items, *truth.unusable])
    claims: dict[str, list[Predicted]] = defaultdict(list)
    out = Paired()
    for p in predicted:
        name = index.find(p.file)
        if name is None:
            out.results_without_truth.append(p.file)
        else:
            claims[name].append(p)
    for name, found in claims.items():
        if len(found) > 1:
            for p in found:
                out.not_evaluated[p.file] = (
                    f"{len(found)} result files end like the truth's {name}; give the truth "
                    f"longer paths to tell them apart"
                )
        elif name in truth.unusable:
            out.not_evaluated[found[0].file] = truth.unusable[name]
        elif found[0].failed:
            out.not_evaluated[found[0].file] = "the detector could not read this file"
        else:
            out.pairs.append((found[0], truth.items[name]))
    out.truth_without_result = sorted(n for n in (*truth.items, *truth.unusable) if n not in claims)
    out.results_without_truth.sort()
    out.pairs.sort(key=lambda pair: pair[0].file)
    return out


def predicted_from_md(table: dict[str, list[dict[str, Any]] | None]) -> list[Predicted]:
    """A MegaDetector results table (`shared.md_results`) as evaluation's predictions."""
    return [
        Predicted(
            file=name,
            failed=dets is None,
            boxes=[Box(CATEGORY_LABELS[d["category"]], bbox_of(d), d["conf"]) for d in dets or []],
        )
        for name, dets in table.items()
    ]
