"""What a monitor points at. `/healthz`: liveness (200 while the site and Redis answer;
`"status": "degraded"` while no model server runs, so a dashboard shows it). `/readyz`: 200 only
when uploads will be processed (Redis up, a model server live, nothing waiting longer than
`TRAPLINE_READY_MAX_WAIT_SECONDS`), else 503 with the reason: the one to alert on. `/metrics`:
Prometheus text, read from Redis at each scrape (so every gunicorn worker says the same)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, cast

from flask import Blueprint, Response, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError

from shared.contract import NOTICE_KEY, RATE_KEY, UNFINISHED_KEY, JobStatus, as_text, job_queue
from shared.job_index import unfinished_states
from shared.model_servers import live_servers
from shared.stats import counts
from web import resources
from web.access import now

bp = Blueprint("health", __name__)
NO_SERVER = "No model server is running; uploads wait in the queue."
HELP = {
    "images_processed": "Photos and videos the model servers finished, by model",
    "images_failed": "Files that could not be read, by model",
    "jobs_finished": "Jobs finished, by model",
    "jobs_failed": "Jobs that failed, by model",
}


def _oldest_wait(redis: Redis, now: float) -> float:
    """Seconds the longest-waiting queued job has waited (0 when none waits)."""
    waiting = [s for s in unfinished_states(redis) if s.status is JobStatus.QUEUED]
    return max((now - s.created_at for s in waiting), default=0.0)


@bp.get("/healthz")
def healthz() -> Any:
    r = resources.redis()
    try:
        r.ping()
        servers = [model for _, model in live_servers(r)]
        notice = r.get(NOTICE_KEY)
    except RedisError:
        return jsonify(status="unavailable", redis="unreachable", model_servers=0), 503
    body: dict[str, Any] = {
        "status": "ok" if servers else "degraded",
        "redis": "ok",
        "model_servers": len(servers),
        "models": sorted(set(servers)),
    }
    if not servers:
        body["notice"] = as_text(notice) if notice else NO_SERVER
    return jsonify(body)


@bp.get("/readyz")
def readyz() -> Any:
    r = resources.redis()
    limit = resources.settings().ready_max_wait_seconds
    try:
        servers = live_servers(r)
        waited = _oldest_wait(r, now().timestamp())
    except RedisError:
        return jsonify(status="unavailable", reason="Redis is unreachable"), 503
    if not servers:
        return jsonify(status="unavailable", reason=NO_SERVER), 503
    if waited > limit:
        reason = f"a job has waited {waited:.0f} s in the queue (more than {limit:.0f} s)"
        return jsonify(status="unavailable", reason=reason, waited_seconds=round(waited)), 503
    return jsonify(status="ready", model_servers=len(servers), waited_seconds=round(waited))


class FleetCollector(Collector):
    """The queue, the model servers and their counters, as Redis has them now."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("trapline_redis_up", "1 when the site reaches Redis")
        try:
            found = self._read()
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _read(self) -> list[Metric]:
        r = self.redis
        servers = live_servers(r)
        left = [int(v) for v in cast(list[bytes], r.hvals(UNFINISHED_KEY))]
        rate = r.get(RATE_KEY)
        at = now().timestamp()
        live = GaugeMetricFamily(
            "trapline_model_server_up",
            "Model servers alive, by name and model",
            labels=["server", "model"],
        )
        for name, model in servers:
            live.add_metric([name, model], 1)
        per_model = GaugeMetricFamily(
            "trapline_model_servers", "Live model servers, by model", labels=["model"]
        )
        for model, n in sorted(Counter(model for _, model in servers).items()):
            per_model.add_metric([model], n)
        gauges = [
            ("trapline_queue_jobs", "Jobs queued for a model server", job_queue(r).count),
            ("trapline_jobs_unfinished", "Jobs queued or running, follow-ups too", len(left)),
            ("trapline_files_waiting", "Files the unfinished jobs still have to do", sum(left)),
            ("trapline_oldest_wait_seconds", "The longest wait in the queue", _oldest_wait(r, at)),
            ("trapline_recent_images_per_second", "Last finished job's speed", float(rate or 0)),
        ]
        found: list[Metric] = [live, per_model]
        for name, text, value in gauges:
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], value)
            found.append(gauge)
        totals = counts(r)
        for counter, text in HELP.items():
            family = CounterMetricFamily(f"trapline_{counter}", text, labels=["model"])
            for (name, model), value in sorted(totals.items()):
                if name == counter:
                    family.add_metric([model], value)
            found.append(family)
        return found


@bp.get("/metrics")
def metrics() -> Response:
    registry = CollectorRegistry()
    registry.register(FleetCollector(resources.redis()))
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
