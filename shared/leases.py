"""A running piece of work's lease: held by the model server working on it, renewed while it
lives. Without a lease, running work is an orphan and recovery queues it again.

Each lease is a key with a TTL (`trapline:lease:<job id>` for detection,
`trapline:lease:<job id>:follow-up` for an export or classify, `trapline:lease:<job id>:chunk:<n>`
for one chunk of a large detection) holding "<server>#<attempt>",
and a member of the `LEASES_KEY` sorted set scored by its expiry, as rq's registries are, so
"what is running now" is one range read and never a scan.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from shared.job_record import JobStatus, as_text, encode, state_key

LEASE_PREFIX = "trapline:lease:"
LEASES_KEY = "trapline:leases"  # lease name -> expiry (Unix seconds)
FOLLOW_UP_SUFFIX = ":follow-up"
CHUNK_INFIX = ":chunk:"


@dataclass(frozen=True)
class Lease:
    """What one model server holds for one attempt at one piece of work. `fence` names the
    record's fields that must still hold these values for the lease to be taken again after it
    lapsed (a short Redis outage while nobody else started the work)."""

    job_id: str
    holder: str  # "<server>#<attempt>"
    attempt: int
    fence: dict[str, Any]
    status: JobStatus  # what the record's status must be to take a lapsed lease again
    follow_up: bool = False
    chunk: int | None = None  # one chunk of the job's detection (`shared.chunks`)

    @property
    def name(self) -> str:
        if self.chunk is not None:
            return f"{self.job_id}{CHUNK_INFIX}{self.chunk}"
        return self.job_id + (FOLLOW_UP_SUFFIX if self.follow_up else "")

    @property
    def key(self) -> str:
        return LEASE_PREFIX + self.name


def detect_lease(job_id: str, holder: str, attempt: int) -> Lease:
    return Lease(job_id, holder, attempt, {"attempt": attempt}, JobStatus.PROCESSING)


def chunk_lease(job_id: str, holder: str, attempt: int, chunk: int) -> Lease:
    """One chunk of the job's detection attempt `attempt`: it lives while that attempt does."""
    return Lease(job_id, holder, attempt, {"attempt": attempt}, JobStatus.PROCESSING, chunk=chunk)


def follow_up_lease(job_id: str, holder: str, attempt: int, rq_id: str) -> Lease:
    return Lease(job_id, holder, attempt, {"follow_up": rq_id}, JobStatus.FINISHED, True)


# Holders are "<server>#<attempt>": a lease held for the same or a later attempt is never taken.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder then
  local held = tonumber(string.match(holder, '#(%d+)$') or '0')
  if held >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
return 1
"""

# Renews a lease held by this token; takes it again if it lapsed while nobody else started the
# work (a short Redis outage), but never once the record moved on to another attempt.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then
  if holder then return 0 end
  for k, v in pairs(cjson.decode(ARGV[2])) do
    if redis.call('HGET', KEYS[3], k) ~= v then return 0 end
  end
  if redis.call('HGET', KEYS[3], 'status') ~= ARGV[4] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return 1
"""

_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def acquire(redis: Redis, lease: Lease, seconds: int, now: float | None = None) -> bool:
    """Takes the lease for this attempt unless it is held for this attempt or a later one."""
    expiry = (time.time() if now is None else now) + seconds
    return bool(
        redis.eval(
            _ACQUIRE,
            2,
            lease.key,
            LEASES_KEY,
            lease.holder,
            lease.attempt,
            seconds,
            expiry,
            lease.name,
        )
    )


def renew(redis: Redis, lease: Lease, seconds: int, now: float | None = None) -> bool:
    expiry = (time.time() if now is None else now) + seconds
    return bool(
        redis.eval(
            _RENEW,
            3,
            lease.key,
            LEASES_KEY,
            state_key(lease.job_id),
            lease.holder,
            json.dumps(encode(lease.fence)),
            seconds,
            json.dumps(lease.status.value),
            expiry,
            lease.name,
        )
    )


def drop(redis: Redis, lease: Lease) -> None:
    """Removes the lease while this holder still has it."""
    redis.eval(_DROP, 2, lease.key, LEASES_KEY, lease.holder, lease.name)


def has_lease(redis: Redis, job_id: str, *, follow_up: bool = False) -> bool:
    return bool(redis.exists(LEASE_PREFIX + job_id + (FOLLOW_UP_SUFFIX if follow_up else "")))


def running_detections(redis: Redis, now: float | None = None) -> list[str]:
    """Jobs whose detection a live model server holds now (leases not yet expired)."""
    names = redis.zrangebyscore(LEASES_KEY, time.time() if now is None else now, "+inf")
    texts = [as_text(n) for n in cast(list[bytes], names)]
    return [name for name in texts if ":" not in name]  # not a follow-up's, not a chunk's


def forget_lapsed(redis: Redis, before: float) -> None:
    """Index entries of leases that lapsed long ago (their keys are gone with their TTL)."""
    redis.zremrangebyscore(LEASES_KEY, "-inf", before)
