"""`trapline-evaluate RESULTS.json TRUTH -o report.xlsx`: how good a MegaDetector-format results
file (Trapline's or anyone's) is against a ground truth the researcher has."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model_server.outputs.evaluation_report import write_evaluation_workbook
from shared.categories import LABELS
from shared.errors import TraplineError
from shared.evaluation.metrics import IOU_MATCH
from shared.evaluation.model import NON_EMPTY
from shared.evaluation.pairing import predicted_from_md
from shared.evaluation.report import against_truth, recall_sentence
from shared.evaluation.truth_files import FORMATS, read_truth_path
from shared.md_results import load_md_results, typical_threshold

EXIT_OK, EXIT_FAILED = 0, 1


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError("must be above 0 and at most 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trapline-evaluate",
        description="Precision, recall and F1 of a MegaDetector-format results file against a "
        f"ground truth: {FORMATS}. Files are paired by the longest common end of their paths.",
    )
    parser.add_argument("results", type=Path, metavar="RESULTS.json")
    parser.add_argument("truth", type=Path, metavar="TRUTH")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="REPORT.xlsx")
    parser.add_argument(
        "--threshold",
        type=_fraction,
        help="boxes at or above it count (default: the results file's typical threshold)",
    )
    parser.add_argument(
        "--recall",
        type=_fraction,
        metavar="R",
        help="also find the highest threshold that reaches this recall",
    )
    parser.add_argument(
        "--category",
        choices=[*LABELS, NON_EMPTY],
        default="animal",
        help="the category --recall is about (default: animal)",
    )
    return parser


def _percent(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.1%}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        info, table = load_md_results(args.results)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(
            f"trapline-evaluate: {args.results} is not a readable MegaDetector results file: {exc}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        truth = read_truth_path(args.truth)
    except TraplineError as exc:
        print(f"trapline-evaluate: {exc}", file=sys.stderr)
        return EXIT_FAILED
    threshold = args.threshold or typical_threshold(info)
    report = against_truth(
        predicted_from_md(table),
        truth,
        threshold,
        recall=args.recall,
        recall_label=args.category,
        listed=sys.maxsize,
    )
    about = [
        ("Results", str(args.results)),
        ("Detector", info.get("detector", "not stated")),
        ("Truth", str(args.truth)),
        ("Truth format", truth.source),
        ("Threshold", threshold),
        ("Images evaluated", report["images"]),
        ("Box matching", f"intersection over union at least {IOU_MATCH}"),
        ("Warning", report["warning"] or "none"),
    ]
    about += [("Note", note) for note in truth.notes]
    target = report["recall_target"]
    if target:
        about.append(("Recall target", recall_sentence(target)))
    write_evaluation_workbook(args.output, report, about)
    _print(report, threshold, args.output)
    return EXIT_OK if report["images"] else EXIT_FAILED


def _print(report: dict, threshold: float, output: Path) -> None:
    print(
        f"{report['images']} images evaluated at threshold {threshold} "
        f"(truth: {report['truth']['format']})"
    )
    if report["warning"]:
        print(f"warning: {report['warning']}")
    print(f"{'category':<10} {'precision':>9} {'recall':>7} {'F1':>7}    TP    FP  misses")
    for row in report["categories"]:
        print(
            f"{row['category']:<10} {_percent(row['precision']):>9} {_percent(row['recall'])}"
            f" {_percent(row['f1'])} {row['true_positives']:5d} {row['false_positives']:5d}"
            f" {row['misses']:7d}"
        )
    unpaired = report["unpaired"]
    print(
        f"not paired: {unpaired['results_without_truth']['count']} result file(s) without "
        f"truth, {unpaired['truth_without_result']['count']} truth file(s) without result, "
        f"{unpaired['not_evaluated']['count']} not evaluated (listed in the workbook)"
    )
    if report["recall_target"]:
        print(recall_sentence(report["recall_target"]))
    print(f"wrote {output}")


if __name__ == "__main__":
    sys.exit(main())
