"""The batch pipeline: images in, one result zip out, with decoding and writing overlapping
inference.

Three stages run at once: loader threads read, decode and parse EXIF ahead of the detector; the
calling thread runs the detector (TensorFlow releases the GIL); one writer thread draws boxes,
encodes the annotated copy and appends the checkpoint. Queues between them are small and
bounded, so memory stays flat however large the batch.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import shutil
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from model_server.detection import Detection, Detector
from model_server.drawing import draw_detections, encode_copy
from model_server.excel_report import EXCEL_MAX_ROWS
from model_server.imaging import pixels_of
from model_server.loading import LoadContext, Loaded, load_image
from model_server.pixel_budget import PixelBudget
from model_server.records import Checkpoint, ImageRecord
from model_server.reports import REPORT_FILES, write_reports
from model_server.result_zip import write_result_zip
from model_server.run_info import RunInfo, Tally
from model_server.work_lock import work_dir_lock
from shared.errors import ImageError, JobCancelled, JobLost, NoImagesError, ResultsError
from shared.inputs import InputItem, Inventory
from shared.settings import Settings

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
STAGES = ("read", "decode", "exif", "inference", "drawing", "encoding", "report", "zip")


@dataclass(frozen=True)
class PipelineOptions:
    threshold: float | None = None  # None: the model's typical threshold
    render_threshold: float | None = None  # None: same as threshold
    output_min_confidence: float = 0.005
    max_image_pixels: int = 120_000_000
    max_file_bytes: int = 200 * 1024 * 1024
    jpeg_quality: int = 88
    loader_threads: int = 2
    max_pixels_in_flight: int = 150_000_000
    excel_max_rows: int = EXCEL_MAX_ROWS

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> PipelineOptions:
        base = cls(
            threshold=settings.detection_threshold,
            render_threshold=settings.render_threshold,
            output_min_confidence=settings.output_min_confidence,
            max_image_pixels=settings.max_image_pixels,
            max_file_bytes=settings.max_file_bytes,
            jpeg_quality=settings.jpeg_quality,
            loader_threads=settings.loader_threads,
            max_pixels_in_flight=settings.max_pixels_in_flight,
        )
        return cls(**{**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass
class StageClock:
    """Seconds spent per stage, summed over threads, and how many times each stage ran."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        with self._lock:
            self.seconds[stage] += now - started
            self.calls[stage] += 1
        return now


@dataclass
class BatchResult:
    zip_path: Path
    run: RunInfo
    tally: Tally
    warnings: list[str]
    clock: StageClock


class _Writer(threading.Thread):
    """Draws, encodes and records results in input order; owns the checkpoint file."""

    def __init__(self, checkpoint: Checkpoint, out_dir: Path, run: RunInfo, opts: PipelineOptions,
                 clock: StageClock, progress: Callable[[], None],
                 may_publish: Callable[[], bool], budget: PixelBudget) -> None:
        super().__init__(name="trapline-writer", daemon=True)
        self.jobs: queue.Queue[tuple[Loaded, list[Detection]] | None] = queue.Queue(maxsize=4)
        self.checkpoint, self.out_dir, self.run_info = checkpoint, out_dir, run
        self.opts, self.clock, self.progress = opts, clock, progress
        self.may_publish, self.budget = may_publish, budget
        self.failure: BaseException | None = None
        self.counter = 0

    def run(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                try:
                    record = self._record(*job)
                finally:
                    # the pixels go before the budget says so, not when the next job comes
                    job[0].image = None
                    self.budget.release(job[0].pixels)
                if not self.may_publish():
                    log.warning("late write refused: %s is not recorded, this run no longer "
                                "owns the job", record.file)
                    raise JobLost("this model server no longer owns the job")
                self.checkpoint.append(record)
                self.progress()
        except OSError as exc:  # disk full, folder unwritable: the job fails, the upload stays
            self.failure = ResultsError(
                f"The server could not write the results ({exc.strerror or exc}). Your upload is "
                "kept; the administrators have been told in the logs.")
            log.error("writing results failed: %s", exc)
            self._drain()
        except BaseException as exc:  # noqa: BLE001 - kept and re-raised by finish()
            self.failure = exc
            self._drain()

    def _drain(self) -> None:
        """Keeps taking jobs so the producer never blocks on a dead writer."""
        while (job := self.jobs.get()) is not None:
            self.budget.release(job[0].pixels)

    def _record(self, loaded: Loaded, dets: list[Detection]) -> ImageRecord:
        item = loaded.item
        if loaded.error is not None or loaded.image is None:
            return ImageRecord(file=item.rel_path, failure=loaded.error or "not decoded")
        image = loaded.image
        t = time.perf_counter()
        draw_detections(image, dets, self.run_info.render_threshold)
        t = self.clock.add("drawing", t)
        suffix = PurePosixPath(item.rel_path).suffix
        width, height = image.size
        meta = loaded.metadata.as_dict() if loaded.metadata else {}
        name = ""
        try:  # an image the copy's format cannot hold is that image's problem, not the disk's
            data, notes = encode_copy(image, suffix, loaded.exif, self.opts.jpeg_quality)
        except (ValueError, OSError) as exc:
            notes = [f"no annotated copy: it could not be encoded ({exc})"]
        else:
            self.counter += 1
            name = f"{self.counter:06d}-{time.time_ns()}{suffix.lower()}"
            (self.out_dir / name).write_bytes(data)
        self.clock.add("encoding", t)
        if notes:
            meta["exif_notes"] = "; ".join(n for n in (meta.get("exif_notes"), *notes) if n)
        return ImageRecord.from_detections(item.rel_path, dets, width=width, height=height,
                                           metadata=meta, annotated=name)

    def finish(self) -> None:
        self.jobs.put(None)
        self.join()
        if self.failure is not None:
            raise self.failure


def _detect(detector: Detector, loaded: Loaded, clock: StageClock,
            fatal: tuple[type[BaseException], ...]) -> list[Detection]:
    if loaded.image is None:
        return []
    t = time.perf_counter()
    try:
        return detector.detect(pixels_of(loaded.image), loaded.item.rel_path)
    except ImageError as exc:
        loaded.error = str(exc)
    except fatal:
        raise
    except Exception as exc:  # one image's inference failing must not sink the batch
        log.exception("detector failed on %s", loaded.item.rel_path)
        loaded.error = f"the detector failed on this image ({type(exc).__name__}: {exc})"
    finally:
        clock.add("inference", t)
    return []


def _next_image(pending: list[tuple[InputItem, Future[Loaded]]], detector: Detector,
                writer: _Writer, clock: StageClock, fatal: tuple[type[BaseException], ...],
                should_stop: Callable[[], bool] | None,
                in_flight: Callable[[list[str]], None] | None, budget: PixelBudget) -> None:
    """Detects the oldest loaded image and hands it to the writer."""
    if should_stop and should_stop():
        for _, fut in pending:
            fut.cancel()
        raise JobCancelled("The job was cancelled.")
    if in_flight:
        in_flight([item.rel_path for item, _ in pending])
    _, future = pending.pop(0)
    loaded = future.result()
    try:
        dets = _detect(detector, loaded, clock, fatal)
    except BaseException:
        budget.release(loaded.pixels)
        raise
    writer.jobs.put((loaded, dets))


def run_batch(
    inventory: Inventory,
    detector: Detector,
    work_dir: Path,
    result_zip: Path,
    opts: PipelineOptions,
    *,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    fatal: tuple[type[BaseException], ...] = (),
    now: Callable[[], datetime] = datetime.now,
    may_publish: Callable[[], bool] = lambda: True,
    exclusive: bool = True,
    in_flight: Callable[[list[str]], None] | None = None,
) -> BatchResult:
    """Processes every image not already in the work folder's checkpoint, then writes reports
    and the zip. Safe to call again on the same work folder after a crash: it resumes.
    `fatal` exceptions (such as the queue's job timeout) end the batch instead of becoming an
    error row for the image in hand. `now` is the clock (capture times after the run's start are
    flagged as camera clocks set in the future). `may_publish` is asked before every write that
    others can see (checkpoint lines, the zip): a model server that lost its job says no.
    `exclusive` locks the work folder so a second run on it refuses to start (the batch
    command); the service fences its writes with `may_publish` instead. `in_flight` hears the
    files being read and detected before each image (what a crash would have had in hand)."""
    if not inventory.items:
        raise NoImagesError("The upload contained no images (JPEG, PNG, TIFF, BMP or WebP).")
    threshold = opts.threshold if opts.threshold is not None else detector.info.typical_threshold
    run = RunInfo(detector.info, threshold,
                  opts.render_threshold if opts.render_threshold is not None else threshold,
                  opts.output_min_confidence, now(), skipped=inventory.skipped)
    annotated = work_dir / "annotated"
    try:
        annotated.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"The server could not create its work folder ({exc.strerror or exc})."
                           " Your upload is kept.") from exc
    with work_dir_lock(work_dir) if exclusive else contextlib.nullcontext():
        return _run_locked(inventory, detector, work_dir, result_zip, opts, run, on_progress,
                           should_stop, fatal, now, may_publish, in_flight)


def _run_locked(inventory: Inventory, detector: Detector, work_dir: Path, result_zip: Path,
                opts: PipelineOptions, run: RunInfo, on_progress: ProgressFn | None,
                should_stop: Callable[[], bool] | None, fatal: tuple[type[BaseException], ...],
                now: Callable[[], datetime], may_publish: Callable[[], bool],
                in_flight: Callable[[list[str]], None] | None) -> BatchResult:
    checkpoint = Checkpoint(work_dir / "results.jsonl")
    if checkpoint.repair():
        log.warning("the checkpoint's last line was cut short by a crash; that image is done again")
    done = checkpoint.done_files()
    todo = [item for item in inventory.items if item.rel_path not in done]
    del done  # not needed again: the names of a 200,000-photo resume add up
    total, progress = len(inventory.items), [len(inventory.items) - len(todo)]
    if progress[0]:
        log.info("resuming: %d of %d images already done", progress[0], total)
    clock = StageClock()

    def advance() -> None:
        progress[0] += 1
        if on_progress:
            on_progress(progress[0], total)

    if on_progress:
        on_progress(progress[0], total)
    budget = PixelBudget(opts.max_pixels_in_flight)
    loading = LoadContext(opts.max_file_bytes, opts.max_image_pixels, clock, run.started, budget)
    writer = _Writer(checkpoint, work_dir / "annotated", run, opts, clock, advance, may_publish,
                     budget)
    writer.start()
    window = max(2, opts.loader_threads * 2)
    try:
        with ThreadPoolExecutor(opts.loader_threads, thread_name_prefix="trapline-load") as pool:
            pending: list[tuple[InputItem, Future[Loaded]]] = []
            for ticket, item in enumerate(todo):
                if len(pending) >= window:
                    _next_image(pending, detector, writer, clock, fatal, should_stop, in_flight,
                                budget)
                    if writer.failure is not None:
                        break
                pending.append((item, pool.submit(load_image, item, ticket, loading)))
            while pending and writer.failure is None:
                _next_image(pending, detector, writer, clock, fatal, should_stop, in_flight,
                            budget)
    finally:
        budget.close()  # loaders still waiting for their turn go on, so the pool can end
        writer.finish()
    run.finished = now()
    return _finish(checkpoint, work_dir, result_zip, run, opts, clock, may_publish)


def _finish(checkpoint: Checkpoint, work_dir: Path, result_zip: Path, run: RunInfo,
            opts: PipelineOptions, clock: StageClock,
            may_publish: Callable[[], bool]) -> BatchResult:
    reports = work_dir / "reports"
    t = time.perf_counter()
    try:
        if reports.exists():
            shutil.rmtree(reports)
        reports.mkdir()
        tally, warnings = write_reports(checkpoint, reports, run,
                                        excel_max_rows=opts.excel_max_rows)
    except OSError as exc:
        raise ResultsError(f"The server could not write the reports ({exc.strerror or exc}). "
                           "Your upload is kept.") from exc
    t = clock.add("report", t)
    # a generator: nothing per image is held while the zip is written
    annotated = ((r.file, work_dir / "annotated" / r.annotated, False)
                 for r in checkpoint.read() if r.annotated)
    report_files = ((name, reports / name, True) for name in REPORT_FILES)
    if not write_result_zip(result_zip, itertools.chain(annotated, report_files), may_publish):
        raise JobLost("this model server no longer owns the job; its zip was not published")
    clock.add("zip", t)
    return BatchResult(result_zip, run, tally, warnings, clock)
