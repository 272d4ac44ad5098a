"""`trapline-batch`: the whole pipeline on one machine, no Redis needed."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from model_server.detectors import load_detector
from model_server.detectors.base import Detector
from model_server.detectors.precomputed import PrecomputedDetections
from model_server.pipeline.batch import BatchResult, run_batch
from model_server.pipeline.options import PipelineOptions
from model_server.species.batch_classes import batch_species
from shared.camtrap_options import Place, parse_places, parse_utc_offset
from shared.errors import TraplineError
from shared.inputs import collect_inputs
from shared.options import JobOptions
from shared.settings import Settings
from shared.video_options import (
    parse_deployment_level,
    parse_event_gap,
    parse_frame_interval,
    parse_max_frames,
)

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _checked(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from one of the shared parsers, keeping its words in the refusal."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _places_file(name: str) -> dict[str, Place]:
    try:
        text = Path(name).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {name}: {exc}") from None
    return parse_places(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trapline-batch",
        description="Detect animals, people and vehicles in camera-trap photos and videos and "
        "write one zip: annotated images (a video's best frame), report.xlsx, detections.json "
        "(MegaDetector format) and CSVs.",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="folders (searched recursively), zip files or single photos or videos",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.zip")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--model",
        type=Path,
        help="MegaDetector .pb or YOLOX .tflite file (default: TRAPLINE_MODEL_PATH)",
    )
    source.add_argument(
        "--from-json",
        type=Path,
        metavar="MD.json",
        help="reuse an existing MegaDetector results file instead of a model",
    )
    parser.add_argument(
        "--threshold",
        type=_fraction,
        help="confidence for outcomes and counts (default: the model's typical)",
    )
    parser.add_argument(
        "--render-threshold",
        type=_fraction,
        help="draw boxes at or above this confidence (default: --threshold)",
    )
    parser.add_argument(
        "--frame-interval",
        type=_checked(parse_frame_interval),
        metavar="SECONDS",
        help="check one video frame every SECONDS (default: "
        "TRAPLINE_VIDEO_FRAME_INTERVAL, 1); the first and last always",
    )
    parser.add_argument(
        "--max-frames",
        type=_checked(parse_max_frames),
        metavar="N",
        help="at most N checked frames per video (default: "
        "TRAPLINE_VIDEO_MAX_FRAMES, 600); the interval widens to fit",
    )
    parser.add_argument(
        "--video-clips",
        action="store_true",
        help="also put an annotated MP4 of each video's checked frames in the zip",
    )
    parser.add_argument(
        "--event-gap",
        type=_checked(parse_event_gap),
        metavar="SECONDS",
        help="files of one camera closer than this are one event (default 60)",
    )
    parser.add_argument(
        "--deployment-level",
        type=_checked(parse_deployment_level),
        metavar="N",
        help="the folder level that is one camera (default 1: each top-level "
        "folder; 2 for site/camera/...)",
    )
    parser.add_argument(
        "--sort-by-outcome",
        action="store_true",
        help="put the annotated copies in the zip under animal/, person/, "
        "vehicle/, empty/ (and combinations such as animal_person/)",
    )
    parser.add_argument(
        "--utc-offset",
        type=_checked(parse_utc_offset),
        metavar="+HH:MM",
        help="the cameras' clocks' offset from UTC, for the Camtrap DP package's "
        "timestamps (default +00:00)",
    )
    parser.add_argument(
        "--deployments",
        type=_checked(_places_file),
        metavar="FILE.csv",
        help="coordinates of deployments whose photos have no GPS: a CSV "
        "deployment,latitude,longitude (Camtrap DP requires them)",
    )
    parser.add_argument(
        "--reports-only",
        action="store_true",
        help="no annotated copies: the zip holds the reports alone, and photos "
        "are decoded only as large as the model reads them (faster)",
    )
    parser.add_argument(
        "--classes",
        metavar="SET_OR_ZIP",
        help="suggest species for animal boxes: a class set's name (from the "
        "site's database) or a zip of example photos, one folder per class "
        "(uses the species embedder beside the model, or TRAPLINE_SPECIES_EMBEDDER)",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="keep intermediate files here; rerunning with it resumes"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _detector(args: argparse.Namespace, settings: Settings) -> Detector:
    if args.from_json:
        return PrecomputedDetections(args.from_json)
    model = args.model or settings.model_path
    if model is None:
        raise TraplineError(
            "No model given: use --model PATH, --from-json MD.json, or set "
            "TRAPLINE_MODEL_PATH. `trapline-models list` shows what to download."
        )
    return load_detector(
        model, threads=settings.inference_threads, inter_threads=settings.inference_inter_threads
    )


def _print_summary(result: BatchResult) -> None:
    tally, run = result.tally, result.run
    print(f"Model: {run.model.name} (threshold {run.threshold})")
    videos = f", videos: {tally.videos}" if tally.videos else ""
    print(
        f"Images: {tally.images - tally.videos}{videos} in {run.seconds:.1f} s — "
        f"animal {tally.with_category('animal')}, person {tally.with_category('person')}, "
        f"vehicle {tally.with_category('vehicle')}, empty {tally.outcomes['empty']}, "
        f"errors {tally.errors}"
    )
    if run.skipped:
        print(f"Skipped {len(run.skipped)} files that are not photos or videos.")
    for warning in result.warnings:
        print(f"Warning: {warning}")
    species = run.species
    if species.get("error"):
        print(f"Species: none suggested: {species['error']}")
    elif species:
        print(
            f"Species (class set {species['set']!r}, {species['embedder']}): "
            f"{species['boxes']} animal boxes, {species['unknown']} unknown"
        )
    package = tally.camtrap
    if package and not package["valid"]:
        hint = (
            " Give coordinates with --deployments FILE.csv (deployment,latitude,longitude)."
            if package["missing_places"]
            else ""
        )
        print(
            "Camtrap DP package: not valid for publication: "
            + "; ".join(package["problems"])
            + "."
            + hint
        )
    for note in package.get("notes", []):
        print(f"Camtrap DP package: {note}")
    print(f"Result: {result.zip_path}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    inventory = collect_inputs(args.inputs, max_file_bytes=settings.max_file_bytes)
    detector = _detector(args, settings)
    job = JobOptions(
        frame_interval=args.frame_interval,
        video_clips=args.video_clips,
        event_gap=args.event_gap,
        deployment_level=args.deployment_level,
        sorted_copies=args.sort_by_outcome,
        utc_offset=args.utc_offset,
        places=args.deployments or {},
        reports_only=args.reports_only,
    )
    opts = PipelineOptions.from_settings(
        settings,
        job,
        threshold=args.threshold,
        render_threshold=args.render_threshold,
        max_frames=args.max_frames,
    )
    bar = tqdm(total=len(inventory.items), unit="img", disable=args.quiet or None, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    try:
        with tempfile.TemporaryDirectory(prefix="trapline-") as tmp:
            species = (
                batch_species(
                    args.classes, settings, detector, Path(tmp) / "classes", model=args.model
                )
                if args.classes
                else None
            )
            result = run_batch(
                inventory,
                detector,
                args.work_dir or Path(tmp) / "work",
                args.output,
                opts,
                on_progress=progress,
                species=species,
            )
    finally:
        bar.close()
        detector.close()
    _print_summary(result)
    if result.tally.errors == result.tally.images:
        print(
            "Error: no photo or video could be processed; see the failure column in the report.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


# options whose value may start with "-" (a western offset): argparse would take "-05:00" for
# an option of its own and say "expected one argument"
DASHED_VALUES = ("--utc-offset",)


def dashed_values_joined(argv: list[str]) -> list[str]:
    """`--utc-offset -05:00` as `--utc-offset=-05:00`, which argparse reads."""
    out: list[str] = []
    at = 0
    while at < len(argv):
        arg = argv[at]
        following = argv[at + 1] if at + 1 < len(argv) else None
        if arg in DASHED_VALUES and following is not None and following[1:2].isdigit():
            out.append(f"{arg}={following}")
            at += 2
            continue
        out.append(arg)
        at += 1
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(dashed_values_joined(sys.argv[1:] if argv is None else argv))
    try:
        return run(args, Settings.from_env())
    except TraplineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
