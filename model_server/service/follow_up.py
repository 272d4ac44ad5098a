"""The frame every follow-up on a finished job (export, classify) runs in, as detection runs in
its own: the lease is taken before the record says the follow-up runs, every write is fenced by
the follow-up's RQ id, the heartbeat renews the lease, and the mark is cleared only by the
follow-up that set it. A model server that dies in the middle leaves a running follow-up without
a lease, which recovery queues again (`model_server.service.recovery`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from rq import get_current_job

from model_server.service.jobs import lease_token, register_lease, runtime, unregister_lease
from model_server.service.redis_retry import retry_until_done
from shared.contract import FollowUpState, JobStatus, follow_up_attempt_of, load_state, transition
from shared.leases import Lease, acquire, drop, follow_up_lease

log = logging.getLogger(__name__)
# A follow-up's mark is cleared whatever the job became meanwhile.
AFTER = (JobStatus.FINISHED, JobStatus.EXPIRED, JobStatus.CANCELLED, JobStatus.FAILED)


@dataclass(frozen=True)
class FollowUp:
    """One attempt at a follow-up, as the work sees it."""

    redis: Redis
    job_id: str
    rq_id: str
    lease: Lease
    # fields the work wants written as the mark is cleared (a classify's error)
    closing: dict[str, Any] = field(default_factory=dict)

    @property
    def fence(self) -> dict[str, Any]:
        return {"follow_up": self.rq_id}

    def write(self, **changes: Any) -> bool:
        """Fields of the finished job, written only while this follow-up still owns it."""
        return transition(
            self.redis, self.job_id, (JobStatus.FINISHED,), fence=self.fence, **changes
        )

    def still_owner(self) -> bool:
        """Whether publishing is safe: the job is still finished and this attempt still its
        follow-up (recovery may have queued another after this server stalled)."""
        state = load_state(self.redis, self.job_id)
        return (
            state is not None
            and state.status is JobStatus.FINISHED
            and state.follow_up == self.rq_id
        )


def run_follow_up(job_id: str, work: Callable[[FollowUp], dict[str, object]]) -> dict[str, object]:
    """Runs `work` as the RQ job carrying this follow-up; the dict it returns is RQ's result."""
    current = get_current_job()
    if current is None:
        raise RuntimeError("follow-ups run inside an RQ worker")
    redis = current.connection
    rt = runtime()
    attempt = follow_up_attempt_of(current.id)
    lease = follow_up_lease(job_id, lease_token(rt.name, attempt), attempt, current.id)
    follow_up = FollowUp(redis, job_id, current.id, lease)
    if not acquire(redis, lease, rt.settings.lease_seconds):
        log.warning("job %s: follow-up %s already runs elsewhere; skipped", job_id, current.id)
        return {"status": "skipped"}
    if not follow_up.write(follow_up_state=FollowUpState.RUNNING):
        drop(redis, lease)
        log.warning("job %s: follow-up %s is no longer the job's; skipped", job_id, current.id)
        return {"status": "skipped"}
    register_lease(lease)
    try:
        return work(follow_up)
    finally:
        unregister_lease(lease)
        retry_until_done(
            lambda: transition(
                redis,
                job_id,
                AFTER,
                fence=follow_up.fence,
                follow_up="",
                follow_up_kind="",
                follow_up_state="",
                **follow_up.closing,
            ),
            what="clearing the follow-up mark",
        )
        retry_until_done(lambda: drop(redis, lease), what="releasing the follow-up's lease")
