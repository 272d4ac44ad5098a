"""The pipeline's stages run one after another, with no threads and no overlap: the baseline
that shows what the pipeline's overlap of decoding, inference and writing is worth."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from model_server.media.exif import read_metadata
from model_server.media.imaging import open_checked, pixels_of, upright_rgb
from model_server.outputs.drawing import draw_detections, encode
from model_server.outputs.reports import REPORT_FILES, write_reports
from model_server.outputs.result_zip import write_result_zip
from model_server.pipeline.options import PipelineOptions
from model_server.pipeline.records import Checkpoint, ImageRecord
from model_server.pipeline.run_info import RunInfo
from shared.inputs import collect_inputs


def run_serial(detector: Any, folder: Path, work: Path, zip_path: Path) -> float:
    """Seconds for the whole batch, every stage done in turn for each photo."""
    opts = PipelineOptions()
    start = time.perf_counter()
    threshold = detector.info.typical_threshold
    run = RunInfo(detector.info, threshold, threshold, opts.output_min_confidence,
                  datetime.now())
    (work / "annotated").mkdir(parents=True)
    checkpoint = Checkpoint(work / "results.jsonl")
    for n, item in enumerate(collect_inputs([folder]).items):
        header = open_checked(item.read(opts.max_file_bytes), opts.max_image_pixels)
        metadata = read_metadata(header, now=run.started)
        image, exif = upright_rgb(header)
        dets = detector.detect(pixels_of(image), item.rel_path)
        draw_detections(image, dets, threshold)
        suffix = PurePosixPath(item.rel_path).suffix
        name = f"{n:06d}{suffix.lower()}"
        (work / "annotated" / name).write_bytes(encode(image, suffix, exif, opts.jpeg_quality))
        checkpoint.append(ImageRecord.from_detections(
            item.rel_path, dets, width=image.width, height=image.height,
            metadata=metadata.as_dict(), annotated=name))
    (work / "reports").mkdir()
    write_reports(checkpoint, work / "reports", run)
    entries = [(r.file, work / "annotated" / r.annotated, False) for r in checkpoint.read()]
    entries += [(name, work / "reports" / name, True) for name in REPORT_FILES]
    write_result_zip(zip_path, entries)
    return time.perf_counter() - start
