"""/healthz for monitors and load balancers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from redis.exceptions import RedisError

from shared.contract import NOTICE_KEY, as_text
from shared.model_servers import live_servers
from web import resources

bp = Blueprint("health", __name__)


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
        "status": "ok",
        "redis": "ok",
        "model_servers": len(servers),
        "models": sorted(set(servers)),
    }
    if not servers:
        body["notice"] = (
            as_text(notice) if notice else "No model server is running; uploads wait in the queue."
        )
    return jsonify(body)
