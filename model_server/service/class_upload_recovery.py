"""A class-example upload whose model server died (issue 33, item 10): kill -9 or the OOM killer
in the middle of learning from a zip left its record "running" for good, and its examples never
came. The same rule as a job's: the server learning from an upload holds a lease in Redis,
renewed on a thread, taken before the record says "running"; the recovery sweep queues an
upload that runs without a lease again (its zip is still on disk: only a finished attempt
removes it), until it has killed `max_attempts` servers, then fails it saying why. An upload
recorded as queued whose RQ job is gone is queued again. A server that was only stalled, and
wakes to find its lease taken, adds nothing."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, select

from shared.contract import enqueue_class_upload
from shared.settings import Settings
from shared.storage import Storage
from shared.store.class_sets import finish_upload
from shared.store.schema import class_uploads

log = logging.getLogger(__name__)
LEASE_PREFIX = "trapline:lease:class-upload:"
CRASHES_PREFIX = "trapline:class-upload-crashes:"
LOCK_PREFIX = "trapline:recovering-class-upload:"
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def rq_id_of(upload_id: int, attempt: int) -> str:
    """Each attempt its own RQ id: RQ's cleanup of a dead attempt never touches the next."""
    return f"class-upload-{upload_id}" + (f"-{attempt}" if attempt else "")


@contextmanager
def holding(redis: Redis, upload_id: int, seconds: int) -> Iterator[Callable[[], bool]]:
    """Holds the upload's lease while the block runs (renewed every third of `seconds`);
    yields `still_mine()`, False once another server took the upload over."""
    key, token = LEASE_PREFIX + str(upload_id), secrets.token_hex(8)
    redis.set(key, token, ex=seconds)
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(seconds / 3):
            try:
                redis.eval(_RENEW, 1, key, token, seconds)
            except RedisError as exc:
                log.warning("class upload %s: lease not renewed (%s)", upload_id, exc)

    renewer = threading.Thread(target=keep, name=f"class-upload-{upload_id}-lease", daemon=True)
    renewer.start()
    try:
        yield lambda: redis.get(key) == token.encode()
    finally:
        stop.set()
        renewer.join()
        redis.eval(_DROP, 1, key, token)


def _unfinished(engine: Engine) -> list[tuple[int, str, str]]:
    query = select(class_uploads.c.id, class_uploads.c.status, class_uploads.c.file).where(
        class_uploads.c.status.in_(("queued", "running"))
    )
    with engine.connect() as conn:
        return [(int(r.id), r.status, r.file) for r in conn.execute(query)]


def recover_class_uploads(
    redis: Redis,
    engine: Engine,
    storage: Storage,
    settings: Settings,
    alive: Callable[[Redis, str], bool],
) -> list[int]:
    """Uploads queued again (their ids). `alive(redis, rq_id)`: whether an RQ job still waits
    or runs."""
    requeued = []
    for upload_id, status, name in _unfinished(engine):
        if redis.exists(LEASE_PREFIX + str(upload_id)):
            continue
        attempt = int(redis.get(CRASHES_PREFIX + str(upload_id)) or 0)
        if status == "queued" and alive(redis, rq_id_of(upload_id, attempt)):
            continue
        if not redis.set(LOCK_PREFIX + str(upload_id), "1", nx=True, ex=60):
            continue
        try:
            if status == "running":
                attempt = int(redis.incr(CRASHES_PREFIX + str(upload_id)))
                redis.expire(CRASHES_PREFIX + str(upload_id), 30 * 24 * 3600)
            if _requeue(redis, engine, storage, settings, upload_id, name, attempt):
                requeued.append(upload_id)
        finally:
            redis.delete(LOCK_PREFIX + str(upload_id))
    return requeued


def _requeue(
    redis: Redis,
    engine: Engine,
    storage: Storage,
    settings: Settings,
    upload_id: int,
    name: str,
    attempt: int,
) -> bool:
    if not storage.class_upload_file(upload_id).is_file():
        why = f"{name} is no longer on the server; please upload it again"
    elif attempt >= settings.max_attempts:
        why = (
            f"the model server stopped {attempt} times while learning from {name} (killed, out "
            "of memory, or crashed); it was not tried again. Check the photos in it, or send "
            "it in smaller parts"
        )
    else:
        finish_upload(engine, upload_id, status="queued")
        enqueue_class_upload(redis, upload_id, rq_id_of(upload_id, attempt))
        log.warning(
            "class upload %s: its model server stopped answering (%d of %d allowed); queued again",
            upload_id,
            attempt,
            settings.max_attempts - 1,
        )
        return True
    finish_upload(engine, upload_id, status="failed", error=why, now=datetime.now(UTC))
    log.error("class upload %s: failed: %s", upload_id, why)
    return False
