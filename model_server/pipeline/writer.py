"""The pipeline's last stage: draws boxes, writes the annotated copy and its thumbnail, and
stores results in the database in batched transactions, in input order."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from model_server.detectors.base import Detection
from model_server.media.loading import Loaded
from model_server.media.pixel_budget import PixelBudget
from model_server.outputs.drawing import draw_detections, encode_copy
from model_server.outputs.run_info import RunInfo
from model_server.outputs.thumbnails import renditions
from model_server.pipeline.options import PipelineOptions
from model_server.pipeline.store_outage import through_outage
from model_server.pipeline.video_frames import VideoResult
from model_server.stage_clock import StageClock
from shared.errors import JobLost, ResultsError
from shared.store.records import MediaRecord, frame_thumbnail, map_link
from shared.store.writes import DuplicateMedia, add_media, done_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreTarget:
    """Where a batch's results go: the database, the job's id in it and when the job was
    made (default: when the run started)."""

    engine: Engine
    job_id: str
    created: datetime | None = None


@dataclass(frozen=True)
class WriterFolders:
    annotated: Path  # full-size annotated copies (they go into the zip)
    thumbnails: Path  # small copies the site shows; they outlive the work folder


class ResultWriter(threading.Thread):
    def __init__(
        self,
        target: StoreTarget,
        folders: WriterFolders,
        run: RunInfo,
        opts: PipelineOptions,
        clock: StageClock,
        progress: Callable[[], None],
        may_publish: Callable[[], bool],
        budget: PixelBudget,
    ) -> None:
        super().__init__(name="trapline-writer", daemon=True)
        self.jobs: queue.Queue[tuple[Loaded, list[Detection], int] | None] = queue.Queue(4)
        self.target, self.folders, self.run_info = target, folders, run
        self.opts, self.clock, self.progress = opts, clock, progress
        self.may_publish, self.budget = may_publish, budget
        self.failure: BaseException | None = None
        self.counter = 0
        self.pending: list[MediaRecord] = []
        self.last_commit = time.monotonic()
        self.retried = False  # the pending results were sent once already (an outage)
        self.ended = False  # the producer's end (None) was taken: nothing more will come

    def run(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                try:
                    record = self._record(*job)
                finally:
                    # the pixels go before the budget says so, not when the next job comes
                    job[0].image = None
                    job[0].video_result = None
                    self.budget.release(job[0].pixels)
                self.pending.append(record)
                self.progress()
                if (
                    len(self.pending) >= self.opts.commit_every
                    or time.monotonic() - self.last_commit >= self.opts.commit_seconds
                ):
                    self._commit()
            self.ended = True
            self._commit()
        except OSError as exc:  # disk full, folder unwritable: the job fails, the upload stays
            self.failure = ResultsError(
                f"The server could not write the results ({exc.strerror or exc}). Your upload is "
                "kept; the administrators have been told in the logs."
            )
            log.error("writing results failed: %s", exc)
            self._drain()
        except BaseException as exc:  # noqa: BLE001 - kept and re-raised by finish()
            self.failure = exc
            self._drain()

    def _commit(self) -> None:
        """One transaction for everything written since the last one, if this run may still
        publish (a model server that lost its job writes nothing more)."""
        if not self.pending:
            return
        if not self.may_publish():
            log.warning(
                "late write refused: %d results are not stored, this run no longer owns the job",
                len(self.pending),
            )
            raise JobLost("this model server no longer owns the job")
        t = time.perf_counter()
        self.retried = False
        try:
            through_outage(
                self.target.engine,
                self._store_pending,
                what=f"storing {len(self.pending)} results",
                patience=self.opts.database_patience,
            )
        except DuplicateMedia as exc:
            raise JobLost(f"another run already stored these results ({exc})") from exc
        except SQLAlchemyError as exc:  # the database is down, full or refuses the login
            log.error("storing results failed: %s", exc)
            raise ResultsError(
                "The server could not store the results (its database did not "
                "answer). Your upload is kept; the administrators have been told "
                "in the logs."
            ) from exc
        self.clock.add("store", t)
        self.pending = []
        self.last_commit = time.monotonic()

    def _store_pending(self) -> None:
        """add_media, once more after an outage: a commit whose answer the restart lost may have
        landed, and then its files are all stored already (stored again, they would clash)."""
        engine, job_id = self.target.engine, self.target.job_id
        try:
            add_media(
                engine, job_id, self.pending, self.run_info.threshold, self.run_info.model.name
            )
        except DuplicateMedia:
            if not self.retried or not {r.file for r in self.pending} <= done_paths(engine, job_id):
                raise
            log.warning("the %d results sent before the outage were stored", len(self.pending))
        finally:
            self.retried = True

    def _drain(self) -> None:
        """Keeps taking jobs so the producer never blocks on a dead writer; once the end was
        taken (the last commit failed), nothing more comes, and waiting would hang `finish`."""
        while not self.ended and (job := self.jobs.get()) is not None:
            self.budget.release(job[0].pixels)

    def _record(self, loaded: Loaded, dets: list[Detection], ordinal: int) -> MediaRecord:
        item = loaded.item
        if loaded.video_result is not None and loaded.error is None:
            return self._video_record(loaded, loaded.video_result, ordinal)
        if loaded.error is not None or loaded.image is None:
            return MediaRecord(
                file=item.rel_path,
                failure=loaded.error or "not decoded",
                ordinal=ordinal,
                kind=item.kind,
            )
        image = loaded.image
        width, height = loaded.size or image.size
        meta = {**(loaded.metadata.as_dict() if loaded.metadata else {}), **loaded.look}
        stored = [d.as_stored() for d in dets]
        if not self.opts.copies:  # the reports alone: nothing to draw or encode
            return MediaRecord(
                file=item.rel_path,
                detections=stored,
                width=width,
                height=height,
                metadata=meta,
                ordinal=ordinal,
            )
        t = time.perf_counter()
        # the site's renditions are clean: the browser draws the boxes it is asked to show
        thumb, view = self._renditions(image, ordinal)
        t = self.clock.add("encoding", t)
        drawn = [d for d in dets if d.conf >= self.run_info.render_threshold]
        if not drawn and loaded.original:  # nothing to draw: the photo as the camera wrote it
            name, notes = self._stored_copy(loaded.original, PurePosixPath(item.rel_path).suffix)
        else:
            draw_detections(image, dets, self.run_info.render_threshold)
            t = self.clock.add("drawing", t)
            name, notes = self._annotated_copy(loaded, PurePosixPath(item.rel_path).suffix)
        self.clock.add("encoding", t)
        if notes:
            meta["exif_notes"] = "; ".join(n for n in (meta.get("exif_notes"), *notes) if n)
        return MediaRecord(
            file=item.rel_path,
            detections=stored,
            width=width,
            height=height,
            metadata=meta,
            annotated=name,
            thumbnail=thumb,
            view=view,
            ordinal=ordinal,
        )

    def _video_record(self, loaded: Loaded, result: VideoResult, ordinal: int) -> MediaRecord:
        """The video's row: its best frame stands for it in the gallery, the viewer and the
        zip (annotated, `<video>.best.jpg`); every checked frame gets a filmstrip thumbnail."""
        item, image = loaded.item, result.best
        meta = dict(result.facts.get("metadata") or {})
        notes = [n for n in (meta.get("exif_notes"), *result.notes) if n]
        captured = meta.get("captured")
        if captured and datetime.fromisoformat(captured) > self.run_info.started:
            notes.append("capture time is in the future: check the camera clock")
        meta["exif_notes"] = "; ".join(notes)
        meta["map_link"] = map_link(meta.get("latitude"), meta.get("longitude"))
        if result.failure is not None or image is None:
            return MediaRecord(
                file=item.rel_path,
                failure=result.failure or "not decoded",
                ordinal=ordinal,
                kind="video",
                metadata=meta,
                video=result.summary(),
            )
        if not self.opts.copies:
            return MediaRecord(
                file=item.rel_path,
                detections=result.detections,
                width=image.width,
                height=image.height,
                metadata=meta,
                ordinal=ordinal,
                kind="video",
                video=result.summary(),
            )
        t = time.perf_counter()
        thumb, view = self._renditions(image, ordinal)
        folder = self.folders.thumbnails
        for number, jpeg in result.thumbnails.items():
            (folder / frame_thumbnail(thumb, number)).write_bytes(jpeg)
        t = self.clock.add("encoding", t)
        draw_detections(image, result.best_detections, self.run_info.render_threshold)
        t = self.clock.add("drawing", t)
        data, _ = encode_copy(image, ".jpg", b"", self.opts.jpeg_quality)
        self.counter += 1
        name = f"{self.counter:06d}-{time.time_ns()}.best.jpg"
        (self.folders.annotated / name).write_bytes(data)
        self.clock.add("encoding", t)
        return MediaRecord(
            file=item.rel_path,
            detections=result.detections,
            width=image.width,
            height=image.height,
            metadata=meta,
            annotated=name,
            thumbnail=thumb,
            view=view,
            ordinal=ordinal,
            kind="video",
            video=result.summary(),
        )

    def _renditions(self, image: Image.Image, ordinal: int) -> tuple[str, str]:
        """The gallery thumbnail and the viewer's rendition, written; their file names."""
        thumb, view = f"{ordinal:07d}.jpg", f"{ordinal:07d}.view.jpg"
        view_jpeg, thumb_jpeg = renditions(image, self.opts.view_size, self.opts.thumbnail_size)
        (self.folders.thumbnails / view).write_bytes(view_jpeg)
        (self.folders.thumbnails / thumb).write_bytes(thumb_jpeg)
        return thumb, view

    def _stored_copy(self, data: bytes, suffix: str) -> tuple[str, list[str]]:
        self.counter += 1
        name = f"{self.counter:06d}-{time.time_ns()}{suffix.lower()}"
        (self.folders.annotated / name).write_bytes(data)
        return name, []

    def _annotated_copy(self, loaded: Loaded, suffix: str) -> tuple[str, list[str]]:
        assert loaded.image is not None
        try:  # an image the copy's format cannot hold is that image's problem, not the disk's
            data, notes = encode_copy(loaded.image, suffix, loaded.exif, self.opts.jpeg_quality)
        except (ValueError, OSError) as exc:
            return "", [f"no annotated copy: it could not be encoded ({exc})"]
        return self._stored_copy(data, suffix)[0], notes

    def finish(self) -> None:
        self.jobs.put(None)
        self.join()
        if self.failure is not None:
            raise self.failure
