"""A running job's lease: held by the model server working on it, renewed while it lives.
Without a lease a `processing` job is an orphan and recovery queues it again."""

from __future__ import annotations

import json

from redis import Redis

from shared.contract import JobStatus, state_key

LEASE_PREFIX = "trapline:lease:"  # held by the model server running a job, refreshed while alive


# Holders are "<server>#<attempt>": a lease held for the same or a later attempt is never taken.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder then
  local held = tonumber(string.match(holder, '#(%d+)$') or '0')
  if held >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def acquire_lease(redis: Redis, job_id: str, holder: str, attempt: int, seconds: int) -> bool:
    """Takes the lease for this attempt unless it is held for this attempt or a later one."""
    return bool(redis.eval(_ACQUIRE, 1, LEASE_PREFIX + job_id, holder, attempt, seconds))


def has_lease(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(LEASE_PREFIX + job_id))


# Renews a lease held by this token; takes it again if it lapsed while nobody else started the
# job (a short Redis outage), but never once the record moved on to another attempt.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return 1
end
if holder then return 0 end
if redis.call('HGET', KEYS[2], 'attempt') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[2], 'status') ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def renew_lease(redis: Redis, job_id: str, holder: str, attempt: int, seconds: int) -> bool:
    return bool(
        redis.eval(
            _RENEW,
            2,
            LEASE_PREFIX + job_id,
            state_key(job_id),
            holder,
            json.dumps(attempt),
            seconds,
            json.dumps(JobStatus.PROCESSING.value),
        )
    )


_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def drop_lease(redis: Redis, job_id: str, holder: str | None = None) -> None:
    """Removes the lease; with `holder`, only while that holder still has it."""
    if holder is None:
        redis.delete(LEASE_PREFIX + job_id)
    else:
        redis.eval(_DROP, 1, LEASE_PREFIX + job_id, holder)
