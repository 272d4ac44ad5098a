"""The model server's species work, as RQ entry points: teaching a class set from an uploaded
zip of example photos, and classifying a finished job's animal boxes with a class set (after
learning from its review, when asked), then making its outputs again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from rq import get_current_job

from model_server.service.class_upload_recovery import holding
from model_server.service.exports import export_outputs
from model_server.service.follow_up import FollowUp, run_follow_up
from model_server.service.jobs import runtime
from model_server.species.classify import classify_job as classify_boxes
from model_server.species.examples import learn_from_zip
from model_server.species.learning import learn_from_review
from model_server.species.pictures import rendition_pictures
from model_server.species.step import species_run
from shared.contract import load_state
from shared.errors import InputError, ModelLoadError
from shared.logs import job_context
from shared.storage import Storage
from shared.store.class_sets import (
    ClassSetError,
    SetRow,
    UploadRow,
    add_upload_examples,
    bind_embedder,
    finish_upload,
    get_set,
    get_upload,
    set_by_id,
)
from shared.store.reads import job_row

log = logging.getLogger(__name__)


def add_examples_job(upload_id: int) -> dict[str, object]:
    """RQ entry point: an upload of example photos becomes examples of its set's classes."""
    rt = runtime()
    storage = Storage(rt.settings.data_dir)
    upload = get_upload(rt.store, upload_id)
    target = set_by_id(rt.store, upload.set_id) if upload is not None else None
    if upload is None or target is None:
        log.warning("class upload %s: its set or record is gone", upload_id)
        return {"status": "skipped"}
    current = get_current_job()
    if current is None:
        raise RuntimeError("class uploads are learned inside an RQ worker")
    with holding(current.connection, upload_id, rt.settings.lease_seconds) as still_mine:
        finish_upload(rt.store, upload_id, status="running")  # after the lease: see recovery
        return _learn(upload_id, upload, target, storage, still_mine)


def _learn(
    upload_id: int,
    upload: UploadRow,
    target: SetRow,
    storage: Storage,
    still_mine: Callable[[], bool],
) -> dict[str, object]:
    rt = runtime()
    zip_path = storage.class_upload_file(upload_id)
    try:
        embedder = rt.embedder()
        bind_embedder(rt.store, target.id, embedder.name)
        learned = learn_from_zip(
            zip_path,
            upload.species,
            rt.detector,
            embedder,
            storage.class_set_dir(target.id),
            max_file_bytes=rt.settings.max_file_bytes,
            max_pixels=rt.settings.max_image_pixels,
        )
        if not still_mine():  # stalled past the lease: another server learns from it now
            log.warning("class upload %s: taken over by another model server", upload_id)
            return {"status": "skipped"}
        added = add_upload_examples(
            rt.store, upload_id, learned.examples, learned.without_animal, datetime.now(UTC)
        )
    except (InputError, ClassSetError, ModelLoadError) as exc:
        finish_upload(rt.store, upload_id, status="failed", error=str(exc), now=datetime.now(UTC))
        zip_path.unlink(missing_ok=True)
        log.warning("class upload %s: %s", upload_id, exc)
        return {"status": "failed", "error": str(exc)}
    # kept until an attempt ends: a server that dies learning leaves it for the next attempt
    zip_path.unlink(missing_ok=True)
    if added is None:
        log.warning("class upload %s: already finished by another attempt", upload_id)
        return {"status": "skipped"}
    return {"status": "done", "added": added, "without_animal": len(learned.without_animal)}


def classify_job(job_id: str) -> dict[str, object]:
    """RQ entry point for JobKind.CLASSIFY."""
    with job_context(job_id):
        return run_follow_up(job_id, _classify)


def _classify(follow_up: FollowUp) -> dict[str, object]:
    outcome = _classify_and_export(follow_up)
    error = outcome.get("error")
    follow_up.closing["classify"] = {"error": error} if error else {}
    return outcome


def _classify_and_export(follow_up: FollowUp) -> dict[str, object]:
    redis, job_id = follow_up.redis, follow_up.job_id
    rt = runtime()
    storage = Storage(rt.settings.data_dir)
    state = load_state(redis, job_id)
    job = job_row(rt.store, job_id)
    if state is None or job is None or job.finished_at is None:
        return {"status": "skipped"}
    request = dict(state.classify)
    pictures = rendition_pictures(storage.thumbnail_dir(job_id))
    follow_up.write(export_progress={"stage": "classify", "done": 0})
    try:
        learned = 0
        if request.get("learn"):
            target = get_set(rt.store, str(request.get("set", "")))
            if target is None:
                raise ClassSetError(f"there is no class set named {request.get('set')!r}")
            bind_embedder(rt.store, target.id, rt.embedder().name)
            learned = learn_from_review(
                rt.store,
                job_id,
                target,
                rt.embedder(),
                pictures,
                storage.class_set_dir(target.id),
                datetime.now(UTC),
            )
        run = species_run(rt.store, str(request.get("set", "")), rt.embedder)
        tally = classify_boxes(
            rt.store,
            job_id,
            run,
            pictures,
            job.threshold,
            unreviewed_only=bool(request.get("unreviewed_only")),
        )
    except (ValueError, ModelLoadError) as exc:
        follow_up.write(export_progress={})
        log.warning("job %s: not classified: %s", job_id, exc)
        return {"status": "failed", "error": str(exc)}
    exported = export_outputs(follow_up)
    return {
        "status": "classified",
        "learned": learned,
        "boxes": tally.boxes,
        "unknown": tally.unknown,
        "export": exported.get("status"),
    }
