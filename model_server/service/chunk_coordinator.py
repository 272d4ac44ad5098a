"""The coordinating server's side of a chunked detect job (`shared.chunks`).

The server that took the job plans the chunks, queues them for every model server, and then
works through them itself: it takes any chunk nobody holds (never started, or whose server
died and let its lease lapse), and between chunks waits on the attempt's news list, so a
chunk's end is heard at once. It returns when every chunk is stored; the batch then makes the
outputs from the store. The job's own lease, progress, cancel and timeout are the coordinator's,
as for a job run whole.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from model_server.pipeline.batch import DetectFn, Todo
from model_server.service.job_progress import Progress
from shared import chunks
from shared.chunks import ChunkKeys
from shared.contract import enqueue_chunks
from shared.errors import JobCancelled
from shared.inputs import InputItem, is_video_name
from shared.leases import Lease, acquire, chunk_lease, drop

log = logging.getLogger(__name__)
NEWS_WAIT_SECONDS = 1.0  # the longest between two looks at the chunks while others run them


class ChunkCoordinator:
    """A `Distributor` for one detect attempt. `register`/`unregister` put a chunk's lease in
    the heartbeat's care while this server runs the chunk."""

    def __init__(
        self,
        redis: Redis,
        lease: Lease,
        progress: Progress,
        *,
        size: int,
        video_weight: int,
        total: int,
        lease_seconds: int,
        register: Callable[[Lease], None],
        unregister: Callable[[Lease], None],
    ) -> None:
        self.redis, self.lease, self.progress = redis, lease, progress
        self.size, self.video_weight, self.total = size, video_weight, total
        self.lease_seconds = lease_seconds
        self.register, self.unregister = register, unregister
        self.keys = ChunkKeys(lease.job_id, lease.attempt)
        self.count = 0

    def distribute(self, todo: Todo, detect: DetectFn) -> bool:
        weighted = [
            (ordinal, item.rel_path, self.video_weight if is_video_name(item.rel_path) else 1)
            for ordinal, item in todo
        ]
        plan = chunks.split(weighted, self.size)
        if len(plan) <= 1:
            return False  # one chunk: the batch runs it whole, as it always did
        by_ordinal = dict(todo)
        self.count = len(plan)
        for earlier in range(1, self.lease.attempt):  # plans of attempts that died
            chunks.forget(self.redis, ChunkKeys(self.lease.job_id, earlier))
        chunks.publish(self.redis, self.keys, plan, self.total - len(todo))
        self._queue(plan)
        log.info(
            "job %s: %d files to detect, in %d chunks of up to %d",
            self.lease.job_id,
            len(todo),
            len(plan),
            self.size,
        )
        try:
            self._work_through(by_ordinal, detect)
        except JobCancelled:
            self._wait_for_others()
            raise
        finally:
            chunks.forget(self.redis, self.keys)
        return True

    def _queue(self, plan: list[chunks.ChunkFiles]) -> None:
        """Chunk 0 is this server's to start with; the rest go on the queue. Should Redis refuse,
        this server runs them all itself."""
        sizes = {
            number: (len(files), sum(1 for _, path in files if is_video_name(path)))
            for number, files in enumerate(plan)
            if number > 0
        }
        try:
            enqueue_chunks(self.redis, self.lease.job_id, self.lease.attempt, sizes)
        except RedisError as exc:
            log.warning("job %s: chunks not queued (%s); this server runs them", self.keys, exc)

    def _work_through(self, by_ordinal: dict[int, InputItem], detect: DetectFn) -> None:
        while True:
            if self.progress.should_stop():
                raise JobCancelled("The job was cancelled.")
            done = chunks.finished(self.redis, self.keys)
            if len(done) >= self.count:
                return
            if not any(self._run(number, by_ordinal, detect) for number in self._open(done)):
                self.progress(chunks.stored(self.redis, self.keys), self.total)
                chunks.wait_for_news(self.redis, self.keys, NEWS_WAIT_SECONDS)

    def _open(self, done: set[int]) -> list[int]:
        return [number for number in range(self.count) if number not in done]

    def _run(self, number: int, by_ordinal: dict[int, InputItem], detect: DetectFn) -> bool:
        """Runs the chunk here if nobody holds it; whether it did."""
        lease = chunk_lease(self.lease.job_id, self.lease.holder, self.lease.attempt, number)
        if not acquire(self.redis, lease, self.lease_seconds):
            return False
        self.register(lease)
        try:
            if chunks.is_finished(self.redis, self.keys, number):
                return False
            files = chunks.files_of(self.redis, self.keys, number) or []
            items = [(ordinal, by_ordinal[ordinal]) for ordinal, _ in files]
            log.info("job %s: chunk %d (%d files) runs here", self.lease.job_id, number, len(items))
            detect(items, self._advance)
            chunks.mark_finished(self.redis, self.keys, number)
            return True
        finally:
            self.unregister(lease)
            drop(self.redis, lease)

    def _advance(self) -> None:
        stored = chunks.note_stored(self.redis, self.keys)
        if stored is not None:
            self.progress(stored, self.total)

    def _wait_for_others(self) -> None:
        """After a cancel: until no other server still works on a chunk (they stop at their
        next file), or their leases would have lapsed, so nothing is written after the job's
        results are removed."""
        names = [
            chunk_lease(self.lease.job_id, "", self.lease.attempt, n).key for n in range(self.count)
        ]
        deadline = time.monotonic() + self.lease_seconds
        while time.monotonic() < deadline:
            try:
                if not self.redis.exists(*names):
                    return
                chunks.wait_for_news(self.redis, self.keys, NEWS_WAIT_SECONDS)
            except RedisError:
                return
