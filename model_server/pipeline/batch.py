"""The batch pipeline: images in, results stored, one result zip out, with decoding and writing
overlapping inference.

Three stages run at once: loader threads read, decode and parse EXIF ahead of the detector; the
calling thread runs the detector (TensorFlow releases the GIL); one writer thread draws boxes,
encodes the annotated copy and stores results. Queues between them are small and bounded, so
memory stays flat however large the batch. The store is the checkpoint: a run on a job that is
partly stored does only the rest.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

from model_server.detectors.base import Detection, Detector, PreparingDetector
from model_server.media.imaging import pixels_of
from model_server.media.loading import LoadContext, Loaded, load_media
from model_server.media.pixel_budget import PixelBudget
from model_server.outputs.export import ExportTarget, work_folder_copies, write_outputs
from model_server.outputs.run_info import RunInfo, Tally, job_row_for
from model_server.pipeline.options import PipelineOptions
from model_server.pipeline.store_outage import through_outage
from model_server.pipeline.video_frames import VideoContext, detect_video
from model_server.pipeline.work_lock import work_dir_lock
from model_server.pipeline.writer import ResultWriter, StoreTarget, WriterFolders
from model_server.repeats.appearance import RepeatSteps
from model_server.species.classify import ImageSource
from model_server.species.pictures import upload_pictures
from model_server.species.step import SpeciesStep
from model_server.stage_clock import StageClock
from shared.errors import ImageError, JobCancelled, JobLost, NoImagesError, ResultsError
from shared.inputs import MEDIA_WORDS, InputItem, Inventory
from shared.store import open_store
from shared.store.repeat_rules import suppress_card
from shared.store.species_data import classification_of
from shared.store.writes import done_paths, finish_job, start_job

log = logging.getLogger(__name__)
T = TypeVar("T")

ProgressFn = Callable[[int, int], None]
# classifies a job's stored animal boxes: (store, job id, where pictures come from, threshold)
BATCH_JOB_ID = "batch"  # the one job in a batch command's own SQLite file
Todo = list[tuple[int, InputItem]]  # (ordinal in the inventory, file) not stored yet
# detects and stores some of the files, calling the second argument once per file stored
DetectFn = Callable[[Todo, Callable[[], None]], None]


class Distributor(Protocol):
    """Shares one job's detection with other model servers: `distribute` returns once every
    file of `todo` is stored by some server, running its own share through `detect`; what it
    leaves unstored (a chunk nobody could finish) the batch detects itself afterwards. It
    returns False, having done nothing, when `todo` is too small to share."""

    def distribute(self, todo: Todo, detect: DetectFn) -> bool: ...


@dataclass
class BatchResult:
    zip_path: Path
    run: RunInfo
    tally: Tally
    warnings: list[str]
    clock: StageClock


@dataclass
class _Hooks:
    on_progress: ProgressFn | None
    should_stop: Callable[[], bool] | None
    fatal: tuple[type[BaseException], ...]
    may_publish: Callable[[], bool]
    in_flight: Callable[[list[str]], None] | None
    species: SpeciesStep | None
    repeats: RepeatSteps | None = None
    chunks: Distributor | None = None


Pending = list[tuple[int, InputItem, "Future[Loaded]"]]


def _detect_video(loaded: Loaded, video: VideoContext) -> None:
    assert loaded.video is not None
    try:
        loaded.video_result = detect_video(loaded.video, loaded.item.rel_path, video)
    except video.fatal:
        raise
    except JobCancelled:
        raise
    except Exception as exc:  # one video's failure must not sink the batch
        log.exception("video %s failed", loaded.item.rel_path)
        loaded.error = f"the video could not be processed ({type(exc).__name__}: {exc})"
    finally:
        loaded.video.close()
        loaded.video = None


def _detect(
    detector: Detector, loaded: Loaded, clock: StageClock, fatal: tuple[type[BaseException], ...]
) -> list[Detection]:
    if loaded.image is None:
        return []
    t = time.perf_counter()
    prepared, loaded.prepared = loaded.prepared, None
    try:
        if prepared is not None and isinstance(detector, PreparingDetector):
            return detector.detect_prepared(prepared)
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


def _abandon(pending: Pending) -> None:
    """Cancels what is not loaded yet and stops the decoders of videos that are."""
    for _, _, fut in pending:
        if not fut.cancel() and fut.done() and fut.exception() is None:
            loaded = fut.result()
            if loaded.video is not None:
                loaded.video.close()


def _next_image(
    pending: Pending,
    detector: Detector,
    writer: ResultWriter,
    clock: StageClock,
    hooks: _Hooks,
    budget: PixelBudget,
    video: VideoContext,
) -> None:
    """Detects the oldest loaded image (or video) and hands it to the writer."""
    if hooks.should_stop and hooks.should_stop():
        _abandon(pending)
        raise JobCancelled("The job was cancelled.")
    if hooks.in_flight:
        hooks.in_flight([item.rel_path for _, item, _ in pending])
    ordinal, _, future = pending.pop(0)
    loaded = future.result()
    try:
        if loaded.video is not None:
            _detect_video(loaded, video)
            dets: list[Detection] = []
        else:
            dets = _detect(detector, loaded, clock, hooks.fatal)
    except BaseException:
        budget.release(loaded.pixels)
        _abandon(pending)
        raise
    writer.jobs.put((loaded, dets, ordinal))


def run_batch(
    inventory: Inventory,
    detector: Detector,
    work_dir: Path,
    result_zip: Path,
    opts: PipelineOptions,
    *,
    store: StoreTarget | None = None,
    thumbnails: Path | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    fatal: tuple[type[BaseException], ...] = (),
    now: Callable[[], datetime] = datetime.now,
    may_publish: Callable[[], bool] = lambda: True,
    exclusive: bool = True,
    in_flight: Callable[[list[str]], None] | None = None,
    species: SpeciesStep | None = None,
    repeats: RepeatSteps | None = None,
    chunks: Distributor | None = None,
) -> BatchResult:
    """Processes every image not already stored for the job, then writes reports and the zip
    from the store. Safe to call again after a crash: it resumes. `store` is the database and
    job id (default: an SQLite file in the work folder, as the batch command uses);
    `thumbnails` the folder for the small copies (default: in the work folder).
    `fatal` exceptions (such as the queue's job timeout) end the batch instead of becoming an
    error row for the image in hand. `now` is the clock (capture times after the run's start are
    flagged as camera clocks set in the future). `may_publish` is asked before every write that
    others can see (store commits, the zip): a model server that lost its job says no.
    `exclusive` locks the work folder so a second run on it refuses to start (the batch
    command); the service fences its writes with `may_publish` instead. `in_flight` hears the
    files being read and detected before each image (what a crash would have had in hand).
    `species`, when given, classifies the stored animal boxes (crops from the uploaded photos)
    before the outputs are written. The location's repeat rules (a project's card) suppress the
    boxes on their spots; `repeats`, when given, has them spare what looks like an animal there
    and scores the crops of the card's suspected repeats against their group's typical one.
    `chunks`, when given, shares the detection with other model servers (`Distributor`); the
    outputs are made here, from the store, once every file is stored."""
    if not inventory.items:
        raise NoImagesError(f"The upload contained no images or videos: no {MEDIA_WORDS}.")
    run = _run_info(detector, opts, now(), inventory.skipped)
    folders = _folders(work_dir, thumbnails)
    hooks = _Hooks(
        on_progress, should_stop, fatal, may_publish, in_flight, species, repeats, chunks
    )
    with (
        work_dir_lock(work_dir) if exclusive else contextlib.nullcontext(),
        _own_store(store, work_dir) as target,
    ):
        return _run_locked(
            inventory, detector, work_dir, result_zip, opts, run, folders, target, hooks, now
        )


def run_chunk(
    items: Todo,
    detector: Detector,
    work_dir: Path,
    opts: PipelineOptions,
    *,
    store: StoreTarget,
    thumbnails: Path | None,
    skipped: list[str],
    on_stored: Callable[[], None],
    should_stop: Callable[[], bool],
    fatal: tuple[type[BaseException], ...],
    may_publish: Callable[[], bool],
    now: Callable[[], datetime] = datetime.now,
) -> None:
    """One chunk of a job that another server coordinates (`Distributor`): its files not
    stored yet are detected and stored, into the job's work folder and thumbnails as the
    coordinator's own would be; no outputs. `on_stored` hears each file stored."""
    folders = _folders(work_dir, thumbnails)
    run = _run_info(detector, opts, now(), skipped)
    hooks = _Hooks(None, should_stop, fatal, may_publish, None, None)
    how = _Detection(detector, opts, run, folders, store, hooks, StageClock())
    _detect_unstored(how, items, on_stored)


@contextlib.contextmanager
def _own_store(store: StoreTarget | None, work_dir: Path) -> Iterator[StoreTarget]:
    if store is not None:
        yield store
        return
    engine = open_store(f"sqlite:///{(work_dir / 'results.db').resolve()}")
    try:
        yield StoreTarget(engine, BATCH_JOB_ID)
    finally:
        engine.dispose()


def _run_info(
    detector: Detector, opts: PipelineOptions, started: datetime, skipped: list[str]
) -> RunInfo:
    threshold = opts.threshold if opts.threshold is not None else detector.info.typical_threshold
    return RunInfo(
        detector.info,
        threshold,
        opts.render_threshold if opts.render_threshold is not None else threshold,
        opts.output_min_confidence,
        started,
        skipped=skipped,
        event_gap=opts.event_gap,
        deployment_level=opts.deployment_level,
        sorted_copies=opts.sorted_copies,
        utc_offset=opts.utc_offset,
        places=dict(opts.places),
    )


def _folders(work_dir: Path, thumbnails: Path | None) -> WriterFolders:
    folders = WriterFolders(work_dir / "annotated", thumbnails or work_dir / "thumbnails")
    try:
        for folder in (folders.annotated, folders.thumbnails):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(
            f"The server could not create its work folder ({exc.strerror or exc})."
            " Your upload is kept."
        ) from exc
    return folders


def _todo(inventory: Inventory, target: StoreTarget, *, quiet: bool = False) -> Todo:
    done = done_paths(target.engine, target.job_id)
    todo = [(i, item) for i, item in enumerate(inventory.items) if item.rel_path not in done]
    if len(todo) < len(inventory.items) and not quiet:
        log.info(
            "resuming: %d of %d images already stored",
            len(inventory.items) - len(todo),
            len(inventory.items),
        )
    return todo


def _run_locked(
    inventory: Inventory,
    detector: Detector,
    work_dir: Path,
    result_zip: Path,
    opts: PipelineOptions,
    run: RunInfo,
    folders: WriterFolders,
    target: StoreTarget,
    hooks: _Hooks,
    now: Callable[[], datetime],
) -> BatchResult:
    row = job_row_for(target.job_id, run, created=target.created or run.started)
    row.options = {
        "frame_interval": opts.frame_interval,
        "max_frames": opts.max_frames,
        "video_clips": opts.video_clips,
        "event_gap": opts.event_gap,
        "deployment_level": opts.deployment_level,
        "sorted_copies": opts.sorted_copies,
        "utc_offset": opts.utc_offset,
        "places": {name: list(place) for name, place in opts.places.items()},
    }

    def patiently(action: Callable[[], T], what: str) -> T:
        return through_outage(target.engine, action, what=what, patience=opts.database_patience)

    patiently(lambda: start_job(target.engine, row), "starting the job")
    todo = patiently(lambda: _todo(inventory, target), "reading what is stored")
    total, progress = len(inventory.items), [len(inventory.items) - len(todo)]
    clock = StageClock()

    def advance() -> None:
        progress[0] += 1
        if hooks.on_progress:
            hooks.on_progress(progress[0], total)

    if hooks.on_progress:
        hooks.on_progress(progress[0], total)
    how = _Detection(detector, opts, run, folders, target, hooks, clock)
    if (
        hooks.chunks is not None
        and todo
        and hooks.chunks.distribute(todo, partial(_detect_unstored, how))
    ):
        todo = patiently(lambda: _todo(inventory, target, quiet=True), "reading what is stored")
        progress[0] = total - len(todo)
    if todo:
        _detect_items(how, todo, advance)
    pictures = upload_pictures(
        inventory, opts.max_file_bytes, opts.max_image_pixels, folders.thumbnails
    )
    if hooks.may_publish():  # a later card of a location a reviewer taught its repeats
        suppressed = patiently(lambda: _repeats(target, hooks, pictures, run), "repeat rules")
        if suppressed:
            log.info("job %s: %d boxes suppressed by repeat rules", target.job_id, suppressed)
    if hooks.species is not None:
        species = hooks.species
        patiently(lambda: species(target.engine, target.job_id, pictures, run.threshold), "species")
        run.species = patiently(
            lambda: classification_of(target.engine, target.job_id), "reading species"
        )
    run.finished = finished = now()
    export = ExportTarget(
        target.engine, target.job_id, work_dir / "reports", result_zip, opts.camtrap_dp_schemas
    )
    copies = work_folder_copies(folders.annotated) if opts.copies else None
    tally, warnings = patiently(
        lambda: write_outputs(
            export,
            run,
            copies,
            may_publish=hooks.may_publish,
            excel_max_rows=opts.excel_max_rows,
            clock=clock,
        ),
        "writing the outputs",
    )
    if not hooks.may_publish():
        raise JobLost("this model server no longer owns the job")
    patiently(
        lambda: finish_job(
            target.engine,
            target.job_id,
            finished,
            images=tally.images,
            failures=tally.errors,
            counts=tally.as_counts(),
        ),
        "finishing the job",
    )
    return BatchResult(result_zip, run, tally, warnings, clock)


@dataclass(frozen=True)
class _Detection:
    """What detecting and storing files needs, the same for every share of one run."""

    detector: Detector
    opts: PipelineOptions
    run: RunInfo
    folders: WriterFolders
    target: StoreTarget
    hooks: _Hooks
    clock: StageClock


def _detect_items(how: _Detection, todo: Todo, advance: Callable[[], None]) -> None:
    """Detects `todo` and stores each file's results, `advance` called as each is stored."""
    detector, opts, run, folders = how.detector, how.opts, how.run, how.folders
    target, hooks, clock = how.target, how.hooks, how.clock
    budget = PixelBudget(opts.max_pixels_in_flight)
    loading = LoadContext(
        opts.max_file_bytes,
        opts.max_image_pixels,
        clock,
        run.started,
        budget,
        opts.frame_interval,
        opts.max_frames,
        opts.thumbnail_size,
        None if opts.copies else getattr(detector, "input_size", None),
        detector.prepare if isinstance(detector, PreparingDetector) else None,
    )
    writer = ResultWriter(target, folders, run, opts, clock, advance, hooks.may_publish, budget)
    video = VideoContext(
        detector,
        clock,
        hooks.fatal,
        hooks.should_stop,
        run.render_threshold,
        folders.annotated if opts.video_clips else None,
    )
    writer.start()
    try:
        _feed(todo, detector, writer, clock, hooks, budget, loading, opts, video)
    finally:
        budget.close()  # loaders still waiting for their turn go on, so the pool can end
        writer.finish()


def _detect_unstored(how: _Detection, items: Todo, advance: Callable[[], None]) -> None:
    """`_detect_items` on those of `items` the store does not hold yet (a chunk that another
    server began and let go)."""
    target = how.target
    done = through_outage(
        target.engine,
        lambda: done_paths(target.engine, target.job_id),
        what="reading what is stored",
        patience=how.opts.database_patience,
    )
    todo = [(ordinal, item) for ordinal, item in items if item.rel_path not in done]
    if todo:
        _detect_items(how, todo, advance)


def _repeats(target: StoreTarget, hooks: _Hooks, pictures: ImageSource, run: RunInfo) -> int:
    """The card's boxes that repeat rules suppress (and, with an embedder, each suspected
    repeat's look scored); how many were suppressed."""
    if hooks.repeats is None:
        return suppress_card(target.engine, target.job_id)
    suppressed = hooks.repeats.suppress(target.engine, target.job_id, pictures)
    hooks.repeats.score(target.engine, target.job_id, pictures, run.threshold)
    return suppressed


def _feed(
    todo: list[tuple[int, InputItem]],
    detector: Detector,
    writer: ResultWriter,
    clock: StageClock,
    hooks: _Hooks,
    budget: PixelBudget,
    loading: LoadContext,
    opts: PipelineOptions,
    video: VideoContext,
) -> None:
    """Keeps the loaders a few images ahead of the detector, in input order."""
    window = max(2, opts.loader_threads * 2)
    pending: Pending = []
    try:
        with ThreadPoolExecutor(opts.loader_threads, thread_name_prefix="trapline-load") as pool:
            for ticket, (ordinal, item) in enumerate(todo):
                if len(pending) >= window:
                    _next_image(pending, detector, writer, clock, hooks, budget, video)
                    if writer.failure is not None:
                        return
                pending.append((ordinal, item, pool.submit(load_media, item, ticket, loading)))
            while pending and writer.failure is None:
                _next_image(pending, detector, writer, clock, hooks, budget, video)
    finally:
        _abandon(pending)  # the loaders have ended: no video's decoder is left running
