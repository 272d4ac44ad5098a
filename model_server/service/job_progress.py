"""A running job's side of the conversation with Redis: throttled progress, the cancel and stop
checks between images, and the lease that proves this server still owns the job.

Ownership is judged locally from the last time the lease was confirmed in Redis: a lease that
has not been renewed for `lease_seconds` may have lapsed, and then recovery may already have
handed the job to another server, so this one stops and writes nothing more.
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from redis.exceptions import RedisError

from model_server.service.redis_retry import retry_until_done
from shared.contract import (
    JobStatus,
    load_state,
    update_fields,
)
from shared.errors import JobLost, TraplineError
from shared.leases import Lease, renew

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes
CANCEL_CHECK_INTERVAL = 1.0

stopping = threading.Event()  # set by the worker's SIGTERM handler
# lease name -> time.monotonic() of the last confirmed renewal (heartbeat or job thread)
lease_confirmed: dict[str, float] = {}


class WorkerStopping(TraplineError):
    """The model server is shutting down: release the job so another one carries on."""


def confirm_lease(redis: Redis, lease: Lease, seconds: int) -> bool:
    """Renews the lease; True (and the time noted) only while this attempt still owns it."""
    asked = time.monotonic()
    if renew(redis, lease, seconds):
        lease_confirmed[lease.name] = asked
        return True
    return False


class Progress:
    """Throttled progress writes, and the cancel/stop/ownership checks between images."""

    def __init__(self, redis: Redis, lease: Lease, lease_seconds: int) -> None:
        self.redis, self.lease, self.lease_seconds = redis, lease, lease_seconds
        self.job_id, self.attempt = lease.job_id, lease.attempt
        self.started = time.monotonic()
        lease_confirmed[lease.name] = self.started
        self.first_done: int | None = None
        self.last_write = self.last_check = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.first_done is None:
            self.first_done, self.started = done, now
        if now - self.last_write < PROGRESS_INTERVAL and done < total:
            return
        self.last_write = now
        elapsed = now - self.started
        moved = done - self.first_done
        rate = moved / elapsed if elapsed > 0 and moved > 0 else None
        try:
            update_fields(
                self.redis,
                self.job_id,
                attempt=self.attempt,
                processed=done,
                total=total,
                rate=rate,
            )
        except RedisError as exc:  # progress display only: the checkpoint on disk is the truth
            log.warning("progress not recorded, Redis unreachable: %s", exc)

    def _confirm(self) -> bool:
        return confirm_lease(self.redis, self.lease, self.lease_seconds)

    def still_owner(self) -> bool:
        """Whether writing results is safe: the lease was confirmed less than its length ago.
        When it was not and Redis cannot be asked, this waits until Redis answers: during an
        outage nobody can take the job over, and after a partition the answer is known."""
        confirmed = lease_confirmed.get(self.lease.name, self.started)
        if time.monotonic() - confirmed >= self.lease_seconds / 3:
            try:
                if not self._confirm():
                    return False  # another attempt holds the job
            except RedisError:
                pass  # judged on the last confirmation below
            confirmed = lease_confirmed.get(self.lease.name, confirmed)
        if time.monotonic() - confirmed < self.lease_seconds:
            return True
        log.warning(
            "job %s: Redis has not confirmed this server's lease for %d s; pausing "
            "until it answers",
            self.job_id,
            self.lease_seconds,
        )
        owner = retry_until_done(self._confirm, what="checking who owns the job")
        if owner:
            log.info(
                "job %s: Redis answers again and the job is still ours; carrying on", self.job_id
            )
        return owner

    def note_in_flight(self, names: list[str]) -> None:
        """The files in hand, so that a server that dies on one of them can be diagnosed."""
        try:
            update_fields(self.redis, self.job_id, attempt=self.attempt, in_flight=names)
        except RedisError:
            pass  # a diagnosis aid: never worth stopping for

    def should_stop(self) -> bool:
        """True when the job was cancelled; raises when this server must let go of it."""
        if stopping.is_set():
            raise WorkerStopping("the model server is stopping")
        if not self.still_owner():
            raise JobLost(
                "its lease could not be renewed in time, so another model server may "
                "have taken it over"
            )
        now = time.monotonic()
        if now - self.last_check < CANCEL_CHECK_INTERVAL:
            return False
        self.last_check = now
        try:
            state = load_state(self.redis, self.job_id)
        except RedisError:
            return False  # cannot tell: keep working while the lease holds
        if state is not None and state.attempt != self.attempt:
            raise JobLost(f"attempt {state.attempt} of it was started elsewhere")
        if state is not None and state.status is not JobStatus.PROCESSING:
            raise JobLost(f"the job is {state.status.value} now")
        return state is None or state.cancel_requested
