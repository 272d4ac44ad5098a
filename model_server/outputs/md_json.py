"""MegaDetector batch-output JSON (format 1.4), streamed image by image; read back for reuse."""

from __future__ import annotations

import json
import math
from typing import IO, Any

from model_server.outputs.run_info import RunInfo
from shared.categories import CATEGORY_LABELS
from shared.store.records import KEPT_VERDICTS, MediaRecord

FORMAT_VERSION = "1.4"
# MegaDetector writes confidences with 3 significant digits and box coordinates with 4,
# truncated, not rounded (its run_detector's CONF_DIGITS and COORD_DIGITS).
CONF_DIGITS, COORD_DIGITS = 3, 4


def truncate(x: float, digits: int) -> float:
    """`x` cut (never rounded) to `digits` significant digits, as MegaDetector cuts them, so
    Trapline's JSON compares equal with MegaDetector's own on the same detections. The product
    is rounded to 6 places before flooring so that a value already cut (0.0003 is stored as
    2.9999999999999996e-4 times ten thousand) stays what it is when read back and written again."""
    if abs(x) <= 1e-8:
        return 0.0
    factor = 10.0 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return math.floor(round(x * factor, 6)) / factor


def _info(run: RunInfo) -> dict[str, Any]:
    finished = run.finished or run.started
    meta: dict[str, Any] = {
        "typical_detection_threshold": run.model.typical_threshold,
        "conservative_detection_threshold": run.model.conservative_threshold,
        "threshold_used_in_report": run.threshold,
        "model_name": run.model.name,
        "classes_detected": [c.label for c in run.model.categories],
    }
    if run.model.is_megadetector and run.model.version:
        meta["megadetector_version"] = run.model.version
    if run.model.notes:
        meta["model_notes"] = run.model.notes
    info = {
        "format_version": FORMAT_VERSION,
        "detector": run.model.detector_id,
        "detection_completion_time": finished.strftime("%Y-%m-%d %H:%M:%S"),
        "detector_metadata": meta,
        "producer": "Trapline",
    }
    source = run.model.source
    if source:  # results reused from a MegaDetector file: its provenance, Trapline's beside it
        info["detection_completion_time"] = source.get(
            "detection_completion_time", info["detection_completion_time"]
        )
        info["trapline"] = {
            "reused_from": source.get("file", ""),
            "source_format_version": source.get("format_version", ""),
            "completion_time": finished.strftime("%Y-%m-%d %H:%M:%S"),
        }
    species = run.species
    if species.get("classes"):
        info["classifier"] = f"Trapline class set {species['set']!r} ({species['embedder']})"
        info["classifier_metadata"] = {
            "class_set": species["set"],
            "embedding_model": species["embedder"],
            "unknown_distance_thresholds": species.get("thresholds", {}),
            "classification_confidence": "1 - cosine distance to the class's centroid (a "
            "similarity, not a probability)",
        }
    return info


def class_ids(run: RunInfo) -> dict[str, str]:
    """The class set's classes by name -> MegaDetector-style id ("1", "2", ...)."""
    return {name: str(i) for i, name in enumerate(run.species.get("classes") or [], start=1)}


def classifications(d: dict[str, Any], ids: dict[str, str]) -> list[list[Any]]:
    """A box's `classifications` as MegaDetector writes them, best first: the suggested class
    and the runner-up, each with 1 - its cosine distance. An "unknown" answer has none."""
    found: list[list[Any]] = []
    answer, distance = d.get("suggested_species"), d.get("species_distance")
    if answer in ids and distance is not None:
        found.append([ids[answer], truncate(max(0.0, 1.0 - distance), CONF_DIGITS)])
        runner, margin = d.get("species_runner_up"), d.get("species_margin")
        if runner in ids and margin is not None:
            found.append([ids[runner], truncate(max(0.0, 1.0 - distance - margin), CONF_DIGITS)])
    return found


def image_entry(
    record: MediaRecord, min_conf: float, ids: dict[str, str] | None = None
) -> dict[str, Any]:
    """An `images` entry; a video's is MegaDetector's video entry: `frame_rate`,
    `frames_processed` (the checked frames' numbers, ascending, counted as MegaDetector's
    tools count decoded frames) and `frame_number` on each detection, with `frame_times` (each
    checked frame's seconds from the start) beside `frames_processed`."""
    entry: dict[str, Any] = {"file": record.file}
    video = (record.video or {}) if record.kind == "video" else None
    if video is not None:  # MegaDetector's -1.0 where a video could not be read
        entry["frame_rate"] = video.get("frame_rate") or -1.0
    if record.failure is not None:
        entry.update(failure=record.failure, detections=None)
        if video is not None:
            entry["frames_processed"] = []
        return entry
    if video is not None:
        entry.update(_frames(video))
    dets = [
        d
        for d in record.detections
        if d.get("source", "machine") == "machine" and (d["conf"] >= min_conf or d.get("verdict"))
    ]
    entry["detections"] = [_detection(d, bool(record.review), ids or {}) for d in dets]
    # a box a repeat rule suppressed has a negative confidence, as MegaDetector's repeat
    # detection elimination writes one: below every threshold, and not this image's best
    entry["max_detection_conf"] = max(
        (d["conf"] for d in entry["detections"] if d["conf"] >= 0), default=0.0
    )
    # boxes a reviewer drew come after the machine's, marked as theirs
    entry["detections"] += [
        _detection(d, True) for d in record.detections if d.get("source") == "human"
    ]
    captured = record.captured
    if captured is not None:
        entry["datetime"] = captured.strftime("%Y:%m:%d %H:%M:%S")
    entry["width"], entry["height"] = record.width, record.height
    return entry


def _frames(video: dict[str, Any]) -> dict[str, list[Any]]:
    numbers = video.get("frames_processed") or []
    times = video.get("frame_times") or []
    if len(times) != len(numbers):  # stored before frame times were kept
        return {"frames_processed": sorted(numbers)}
    pairs = sorted(zip(numbers, times, strict=True))
    return {"frames_processed": [n for n, _ in pairs], "frame_times": [t for _, t in pairs]}


def _detection(
    d: dict[str, Any], reviewed: bool, ids: dict[str, str] | None = None
) -> dict[str, Any]:
    """A detection as MegaDetector writes it; on a reviewed image, `verified` says whether a
    person kept it (with `verified_category` where they changed it and `species` where they
    named one); a box a person drew has `source` "human" and confidence 1; a box a location's
    repeat rule suppressed has its confidence negated and `suppressed` true."""
    out: dict[str, Any] = {
        "category": d["category"],
        "conf": truncate(d["conf"], CONF_DIGITS),
        "bbox": [truncate(v, COORD_DIGITS) for v in d["bbox"]],
    }
    if d.get("suppressed_by") is not None:
        out["conf"] = -out["conf"]
        out["suppressed"] = True
    if d.get("source") == "human":
        out["category"] = d.get("verified_category") or d["category"]
        out["source"] = "human"
    if reviewed:
        out["verified"] = d.get("verdict") in KEPT_VERDICTS
        if d.get("verdict") == "changed":
            out["verified_category"] = d["verified_category"]
    if d.get("species"):
        out["species"] = d["species"]
    if d.get("frame") is not None:
        out["frame_number"] = d["frame"]
    found = classifications(d, ids or {})
    if found:
        out["classifications"] = found
    return out


class MdJsonWriter:
    """Writes `{"info":…, "detection_categories":…, "images":[` then one entry per add()."""

    def __init__(self, fh: IO[str], run: RunInfo) -> None:
        self._fh, self._run, self._first = fh, run, True
        # MegaDetector's three, whatever the model finds (`detector_metadata` says which it
        # does): comparison and postprocessing tools expect exactly these
        categories = dict(CATEGORY_LABELS)
        self._ids = class_ids(run)
        heading: dict[str, Any] = {"detection_categories": categories}
        if self._ids:
            heading["classification_categories"] = {v: k for k, v in self._ids.items()}
        head = json.dumps(heading, indent=1, ensure_ascii=False)[:-2]
        fh.write(head + ',\n "images": [\n')

    def add(self, record: MediaRecord) -> None:
        sep = "" if self._first else ",\n"
        self._first = False
        entry = image_entry(record, self._run.output_min_confidence, self._ids)
        self._fh.write(sep + "  " + json.dumps(entry, ensure_ascii=False))

    def close(self) -> None:
        # info goes last so that it can carry the completion time of the whole run
        self._fh.write('\n ],\n "info": ' + json.dumps(_info(self._run), indent=1) + "\n}\n")
