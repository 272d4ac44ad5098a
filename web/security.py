"""What keeps the public site safe: CSRF on browser forms, an API key for scripts, upload rate
limits kept in Redis (so they hold across gunicorn workers), and security headers."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from redis.exceptions import RedisError

from web import resources
from web.errors import Refusal, error_response

csrf = CSRFProtect()

# Dropzone is served by the app and configured from a static file: no inline script anywhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
WINDOW_SECONDS = 3600


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_TOKEN_FOR_SCRIPT = (
    "This request carries neither the page's CSRF token nor an X-API-Key header. Scripts send "
    "X-API-Key (any value when the site sets no key; see the docs, Scripts)."
)
EXPIRED_FORM = (
    "This form has expired or did not come from this site. Please reload the page and try again."
)


def init_security(app: Flask) -> None:
    """CSRF is checked on every request that changes something, for every blueprint, unless it
    carries an X-API-Key or an `Authorization: Bearer` token: a browser cannot add either header
    to a cross-site request without the site's consent, so a script's key cannot be forged by
    CSRF. The key must match when one is configured (TRAPLINE_API_KEY); a token is checked by
    `web.access`."""
    # A researcher on a slow link may upload for hours: the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, once, for everything
    csrf.init_app(app)

    @app.before_request
    def script_or_page() -> Any:
        if request.method not in UNSAFE_METHODS:
            return None
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None  # an API token, checked by web.access; no browser sends one cross-site
        given = request.headers.get("X-API-Key")
        if given is None:
            csrf.protect()
            return None
        expected = resources.settings().api_key
        if expected and not hmac.compare_digest(given.encode(), expected.encode()):
            return jsonify(error="A valid X-API-Key header is required."), 401
        return None

    @app.after_request
    def security_headers(response: Any) -> Any:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if resources.settings().production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> Any:
        # the API's routes are a script's unless the page calls them with its token
        scripted = request.path.startswith("/api/") and not request.headers.get("X-CSRFToken")
        return error_response(400, NO_TOKEN_FOR_SCRIPT if scripted else EXPIRED_FORM)


class RateLimited(Refusal):
    """Too many requests: 429 with the seconds to wait in Retry-After."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, 429, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def _digest(value: str) -> str:
    """A client address or user name as Redis keys hold it: never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _rate_key(kind: str, value: str, window: int) -> str:
    return f"trapline:rate:{kind}:{_digest(value)}:{window}"


def _now() -> float:
    """The clock rate windows are cut from: the app's `TRAPLINE_CLOCK` (tests pin it, so a
    count never straddles the edge of a window) or the wall clock."""
    clock: Callable[[], float] = current_app.config.get("TRAPLINE_CLOCK") or time.time
    return clock()


def _count(kind: str, value: str, limit: int, seconds: int, *, add: bool, what: str) -> None:
    """Counts (or with add=False only reads) one event in the current window; RateLimited past
    the limit. A Redis outage never refuses an upload: its files are safe on disk."""
    now = _now()
    window = int(now // seconds)
    retry_after = int((window + 1) * seconds - now) + 1
    key = _rate_key(kind, value, window)
    try:
        r = resources.redis()
        if add:
            pipe = r.pipeline()
            pipe.incr(key)
            pipe.expire(key, seconds * 2)
            count = int(pipe.execute()[0])
        else:
            count = int(r.get(key) or 0) + 1
    except RedisError as exc:
        current_app.logger.warning("rate limit not checked, Redis unreachable: %s", exc)
        return
    if count > limit:
        wait = f"{retry_after // 60 + 1} minutes" if retry_after > 60 else f"{retry_after} s"
        raise RateLimited(
            f"Too many {what} (limit {limit}). Please try again in {wait}.", retry_after
        )


def _address() -> str:
    return request.remote_addr or "unknown"


def check_upload_rate(email: str) -> None:
    """Counts one upload for this client address and this email in the current hour."""
    settings = resources.settings()
    _count(
        "ip",
        _address(),
        settings.uploads_per_hour_per_ip,
        WINDOW_SECONDS,
        add=True,
        what="uploads from this address in the last hour",
    )
    _count(
        "email",
        email.lower(),
        settings.uploads_per_hour_per_email,
        WINDOW_SECONDS,
        add=True,
        what="uploads from this email address in the last hour",
    )


LOGIN_WINDOW_SECONDS, LOGIN_FAILURES = 15 * 60, 10
BACKOFF_CAP_SECONDS = 60


def check_login_failures(user: str, *, count: bool) -> None:
    """Failed logins (the admin's and accounts'). From one client address, past 10 in 15 minutes
    every attempt from there is refused (429) until the window ends. For one user name from
    anywhere, past 10 failures each further attempt waits a back-off from the last failure (1 s,
    doubling with each failure, at most a minute): guesses from many addresses slow that account
    to one a minute, and never lock its owner out for longer. `count` records one more failure."""
    _count(
        "login-ip",
        _address(),
        LOGIN_FAILURES,
        LOGIN_WINDOW_SECONDS,
        add=count,
        what="failed logins from this address",
    )
    _back_off(user, add=count)


def _back_off(user: str, *, add: bool) -> None:
    key = f"trapline:login-backoff:{_digest(user)}"
    now = _now()
    try:
        r = resources.redis()
        if add:
            pipe = r.pipeline()
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", repr(now))
            pipe.expire(key, LOGIN_WINDOW_SECONDS * 2)
            pipe.execute()
            return
        failures, last = r.hmget(key, ["failures", "last"])
    except RedisError as exc:
        current_app.logger.warning("login back-off not checked, Redis unreachable: %s", exc)
        return
    over = int(failures or 0) - LOGIN_FAILURES
    if over < 0 or last is None:
        return
    left = float(last) + min(2.0**over, BACKOFF_CAP_SECONDS) - now
    if left > 0:
        raise RateLimited(
            f"Too many failed logins for this user name. Please try again in {math.ceil(left)} s.",
            math.ceil(left),
        )


def check_chunk_rate(*, first_of_upload: bool) -> None:
    """Before any bytes are stored: a client already over its hourly upload limit is refused at
    its first chunk (not after sending gigabytes), and chunks per minute are capped."""
    settings = resources.settings()
    if first_of_upload:
        _count(
            "ip",
            _address(),
            settings.uploads_per_hour_per_ip,
            WINDOW_SECONDS,
            add=False,
            what="uploads from this address in the last hour",
        )
    _count(
        "chunk",
        _address(),
        settings.chunks_per_minute_per_ip,
        60,
        add=True,
        what="upload chunks from this address in the last minute",
    )


DAY_SECONDS = 24 * 3600
# Adds ARGV[1] bytes to the address's count for the day unless that would pass ARGV[2]: one
# script, so parallel first chunks cannot all pass a check made before any of them counted.
_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -1 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return used + tonumber(ARGV[1])
"""


def reserve_draft_bytes(size: int) -> None:
    """Counts a file's declared size against this address's daily draft budget as its first
    chunk arrives, whether or not the draft is ever sent as a job; RateLimited past it."""
    limit = resources.settings().draft_bytes_per_day_per_ip
    now = _now()
    window = int(now // DAY_SECONDS)
    key = _rate_key("draft-bytes", _address(), window)
    try:
        used = int(resources.redis().eval(_RESERVE, 1, key, size, limit, DAY_SECONDS * 2))
    except RedisError as exc:
        current_app.logger.warning("draft budget not checked, Redis unreachable: %s", exc)
        return
    if used < 0:
        retry_after = int((window + 1) * DAY_SECONDS - now) + 1
        raise RateLimited(
            f"This address has sent as much to upload drafts today as the site allows "
            f"({limit / 1024**3:.1f} GB a day). Please try again in "
            f"{retry_after // 3600 + 1} hours, or ask the site's administrators.",
            retry_after,
        )
