"""The job function RQ runs for one chunk of a large detect job (`shared.chunks`).

Any model server may take a chunk. It runs only while the job is still on the attempt that
planned it, holds the chunk's lease while it works (renewed by the heartbeat; a server that
dies lets it lapse, and the coordinator runs the chunk again), stores each file's results into
the job, and says on the attempt's news list when it ends. It makes no outputs: the job's
coordinator makes them from the store once every chunk is stored.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from redis import Redis
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from model_server.pipeline.batch import Todo, run_chunk
from model_server.pipeline.options import PipelineOptions
from model_server.pipeline.writer import StoreTarget
from model_server.service.job_progress import Progress, WorkerStopping
from model_server.service.jobs import lease_token, register_lease, runtime, unregister_lease
from model_server.service.redis_retry import retry_until_done
from shared import chunks
from shared.chunks import ChunkFiles, ChunkKeys
from shared.contract import JobState, JobStatus, load_state
from shared.errors import JobCancelled, JobLost
from shared.inputs import Inventory, collect_upload
from shared.leases import Lease, acquire, chunk_lease, drop
from shared.logs import job_context
from shared.storage import Storage

log = logging.getLogger(__name__)

# The last job's inventory, so that a server running several of its chunks reads the upload's
# listing once: (job id, attempt) -> inventory
_inventories: dict[tuple[str, int], Inventory] = {}
_inventories_lock = threading.Lock()


def detect_chunk(job_id: str, attempt: int, chunk: int) -> dict[str, object]:
    """RQ entry point (args: the job, its attempt, the chunk's number)."""
    with job_context(job_id):
        current = get_current_job()
        if current is None:
            raise RuntimeError("detect_chunk runs inside an RQ worker")
        return _take(current.connection, job_id, attempt, chunk)


def _take(redis: Redis, job_id: str, attempt: int, chunk: int) -> dict[str, object]:
    rt = runtime()
    keys = ChunkKeys(job_id, attempt)
    state = load_state(redis, job_id)
    files = chunks.files_of(redis, keys, chunk)
    if (
        state is None
        or state.status is not JobStatus.PROCESSING
        or state.attempt != attempt
        or files is None
    ):
        log.info("job %s: chunk %d of attempt %d is no longer wanted", job_id, chunk, attempt)
        return {"status": "skipped"}
    lease = chunk_lease(job_id, lease_token(rt.name, attempt), attempt, chunk)
    if not acquire(redis, lease, rt.settings.lease_seconds):
        log.info("job %s: chunk %d is running elsewhere", job_id, chunk)
        return {"status": "skipped"}
    register_lease(lease)
    try:
        if chunks.is_finished(redis, keys, chunk):
            return {"status": "skipped"}
        return _run(redis, state, lease, chunk, files)
    finally:
        unregister_lease(lease)
        retry_until_done(lambda: drop(redis, lease), what="releasing the chunk's lease")


def _run(
    redis: Redis, state: JobState, lease: Lease, chunk: int, files: ChunkFiles
) -> dict[str, object]:
    rt = runtime()
    settings = rt.settings
    keys = ChunkKeys(state.id, lease.attempt)
    storage = Storage(settings.data_dir)
    inventory = _inventory(storage, state, lease.attempt, settings.max_file_bytes)
    by_path = {item.rel_path: item for item in inventory.items}
    missing = [path for _, path in files if path not in by_path]
    if missing:  # the upload changed under the job: the coordinator will see what is unstored
        log.error(
            "job %s: chunk %d names files not in the upload: %s", state.id, chunk, missing[:5]
        )
        chunks.note_let_go(redis, keys, chunk)
        return {"status": "failed"}
    items: Todo = [(ordinal, by_path[path]) for ordinal, path in files]
    # the job's checks (cancel, stop, attempt, this chunk's lease); its progress is the
    # attempt's shared count, not this server's record writes
    progress = Progress(redis, lease, settings.lease_seconds)
    log.info("job %s: chunk %d (%d files) started", state.id, chunk, len(items))
    try:
        run_chunk(
            items,
            rt.detector,
            storage.work_dir(state.id),
            PipelineOptions.from_settings(settings, state.options),
            store=StoreTarget(rt.store, state.id, datetime.fromtimestamp(state.created_at, UTC)),
            thumbnails=storage.thumbnail_dir(state.id),
            skipped=inventory.skipped,
            on_stored=lambda: _note_stored(redis, keys),
            should_stop=progress.should_stop,
            fatal=(JobTimeoutException, WorkerStopping, JobLost),
            may_publish=progress.still_owner,
        )
    except (JobCancelled, WorkerStopping, JobLost, JobTimeoutException) as exc:
        log.warning("job %s: chunk %d let go: %s", state.id, chunk, exc or type(exc).__name__)
        chunks.note_let_go(redis, keys, chunk)
        return {"status": "let go"}
    except Exception:
        log.exception("job %s: chunk %d failed; its coordinator runs it again", state.id, chunk)
        chunks.note_let_go(redis, keys, chunk)
        raise
    if not progress.still_owner():
        return {"status": "lost"}
    chunks.mark_finished(redis, keys, chunk)
    log.info("job %s: chunk %d stored", state.id, chunk)
    return {"status": "stored", "files": len(items)}


def _inventory(storage: Storage, state: JobState, attempt: int, max_file_bytes: int) -> Inventory:
    with _inventories_lock:
        found = _inventories.get((state.id, attempt))
        if found is None:
            found = collect_upload(storage.upload_files(state.id), max_file_bytes=max_file_bytes)
            _inventories.clear()
            _inventories[(state.id, attempt)] = found
        return found


def _note_stored(redis: Redis, keys: ChunkKeys) -> None:
    chunks.note_stored(redis, keys)
