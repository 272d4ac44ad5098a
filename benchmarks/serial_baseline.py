"""The pipeline's stages run one after another, with no threads and no overlap: the baseline
that shows what the pipeline's overlap of decoding, inference and writing is worth. It does
the same work: annotated copy, thumbnail, results stored in the same batches, outputs from the
store."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from model_server.media.exif import read_metadata
from model_server.media.imaging import open_checked, pixels_of, upright_rgb
from model_server.outputs.drawing import draw_detections, encode
from model_server.outputs.export import ExportTarget, work_folder_copies, write_outputs
from model_server.outputs.run_info import RunInfo, job_row_for
from model_server.outputs.thumbnails import renditions
from model_server.pipeline.options import PipelineOptions
from shared.inputs import collect_inputs
from shared.store import open_store
from shared.store.records import MediaRecord
from shared.store.writes import add_media, start_job

JOB = "serial"


def run_serial(detector: Any, folder: Path, work: Path, zip_path: Path) -> float:
    """Seconds for the whole batch, every stage done in turn for each photo."""
    opts = PipelineOptions()
    start = time.perf_counter()
    threshold = detector.info.typical_threshold
    run = RunInfo(detector.info, threshold, threshold, opts.output_min_confidence, datetime.now())
    for sub in ("annotated", "thumbnails"):
        (work / sub).mkdir(parents=True)
    store = open_store(f"sqlite:///{work / 'results.db'}")
    start_job(store, job_row_for(JOB, run, created=run.started))
    pending: list[MediaRecord] = []
    for n, item in enumerate(collect_inputs([folder]).items):
        header = open_checked(item.read(opts.max_file_bytes), opts.max_image_pixels)
        metadata = read_metadata(header, now=run.started)
        image, exif = upright_rgb(header)
        dets = detector.detect(pixels_of(image), item.rel_path)
        draw_detections(image, dets, threshold)
        suffix = PurePosixPath(item.rel_path).suffix
        name = f"{n:06d}{suffix.lower()}"
        (work / "annotated" / name).write_bytes(encode(image, suffix, exif, opts.jpeg_quality))
        view, thumb = renditions(image, opts.view_size, opts.thumbnail_size)
        (work / "thumbnails" / f"{n:07d}.view.jpg").write_bytes(view)
        (work / "thumbnails" / f"{n:07d}.jpg").write_bytes(thumb)
        pending.append(
            MediaRecord(
                item.rel_path,
                [d.as_stored() for d in dets],
                width=image.width,
                height=image.height,
                metadata=metadata.as_dict(),
                annotated=name,
                thumbnail=f"{n:07d}.jpg",
                ordinal=n,
            )
        )
        if len(pending) >= opts.commit_every:
            add_media(store, JOB, pending, threshold, detector.info.name)
            pending = []
    add_media(store, JOB, pending, threshold, detector.info.name)
    write_outputs(
        ExportTarget(store, JOB, work / "reports", zip_path),
        run,
        work_folder_copies(work / "annotated"),
    )
    store.dispose()
    return time.perf_counter() - start
