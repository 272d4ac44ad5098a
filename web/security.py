"""What keeps the public site safe: CSRF on browser forms, an API key for scripts, upload rate
limits kept in Redis (so they hold across gunicorn workers), and security headers."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, jsonify, make_response, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from redis.exceptions import RedisError

from web import services
from web.errors import error_response

csrf = CSRFProtect()

# Dropzone is served by the app and configured from a static file: no inline script anywhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
       "object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
WINDOW_SECONDS = 3600


def init_security(app: Flask) -> None:
    # A researcher on a slow link may upload for hours: the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)

    @app.after_request
    def security_headers(response: Any) -> Any:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if services.settings().production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> Any:
        return error_response(400, "This form has expired or did not come from this site. "
                                   "Please reload the page and try again.")


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def check_upload_rate(email: str) -> None:
    """Counts one upload for this client address and this email in the current hour."""
    settings = services.settings()
    window = int(time.time() // WINDOW_SECONDS)
    retry_after = int((window + 1) * WINDOW_SECONDS - time.time()) + 1
    checks = (("ip", request.remote_addr or "unknown", settings.uploads_per_hour_per_ip),
              ("email", email.lower(), settings.uploads_per_hour_per_email))
    try:
        r = services.redis()
        for kind, value, limit in checks:
            digest = hashlib.sha256(value.encode()).hexdigest()[:32]
            key = f"trapline:rate:{kind}:{digest}:{window}"
            pipe = r.pipeline()
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count = pipe.execute()[0]
            if count > limit:
                who = "this address" if kind == "ip" else "this email address"
                raise RateLimited(f"Too many uploads from {who} in the last hour (limit {limit}). "
                                  f"Please try again in {retry_after // 60 + 1} minutes.",
                                  retry_after)
    except RedisError as exc:
        # The upload itself is kept on disk when Redis is down; do not refuse it for this.
        current_app.logger.warning("rate limit not checked, Redis unreachable: %s", exc)


def rate_limited_response(exc: RateLimited) -> Any:
    response = make_response(error_response(429, str(exc)))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def api_key_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """When TRAPLINE_API_KEY is set, scripts must send it as X-API-Key to change anything."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        expected = services.settings().api_key
        given = request.headers.get("X-API-Key", "")
        if expected and not hmac.compare_digest(given.encode(), expected.encode()):
            return jsonify(error="A valid X-API-Key header is required."), 401
        return view(*args, **kwargs)

    return wrapped
