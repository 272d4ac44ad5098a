"""The upload site: app factory. Views live in one blueprint per area."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_dropzone import Dropzone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from shared.settings import Settings
from web import resources
from web.access import init_access
from web.body_limits import init_body_limits, too_large
from web.errors import error_response, init_errors
from web.model_facts import init_model_facts
from web.security import init_security

UNREADABLE_FORM = (
    "The upload could not be read: the form data is malformed, most often because "
    "a file name is not UTF-8 text (an old tool or script). Nothing was stored. "
    "Rename the file with ordinary letters, digits and spaces, or zip it, and "
    "send it again."
)
UNREADABLE_CHECKED = {"upload.submit", "upload.chunk", "upload.remove", "api.create"}
DATABASE_DOWN = (
    "The results database is not answering right now (a restart or maintenance), so results "
    "cannot be shown or changed. Nothing stored is lost; please try again in a minute."
)
REDIS_DOWN = (
    "The job queue is not reachable right now, so no job can be created or looked up. "
    "Your files are safe if the upload finished; please try again in a few minutes."
)


class DatabaseInteger(IntegerConverter):
    """`<int:...>` in routes: at most 18 digits, which a database id (64-bit signed) can hold; a
    longer number matches no route (404)."""

    regex = r"\d{1,18}"


def create_app(overrides: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    # ids in URLs are database integers: a larger number is no such thing (404), not an
    # overflow in the database driver (500); set before any route is added
    app.url_map.converters["int"] = DatabaseInteger
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # Dropzone from the app itself: CDNs are unreachable on offline field laptops.
        DROPZONE_SERVE_LOCAL=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        CHUNK_BYTES=8 * 1024 * 1024,
    )
    app.config.update(overrides or {})
    init_body_limits(app, settings)  # before anything below reads a body
    if settings.behind_proxy:
        # One nginx in front: trust its X-Forwarded-For/Proto/Host for links and client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    resources.init_app(app, settings)
    Dropzone(app)

    @app.before_request
    def unreadable_form() -> Any:
        """werkzeug drops a whole multipart body it cannot decode (a file name that is not
        UTF-8, from a script or an old tool) and the view would then blame the email address.
        Say what really happened instead."""
        if (
            request.method == "POST"
            and request.mimetype == "multipart/form-data"
            and (request.content_length or 0) > 0
            and not request.form
            and not request.files
            and request.endpoint in UNREADABLE_CHECKED
        ):
            return error_response(400, UNREADABLE_FORM)
        return None

    init_security(app)  # after the check above: CSRF would otherwise blame an expired form
    init_access(app)
    init_model_facts(app)

    from web import (
        accounts,
        accuracy,
        admin,
        api,
        camera_checks,
        classes,
        deployments,
        docs_site,
        ecology,
        events,
        insights,
        jobs,
        metrics,
        openapi,
        project_charts,
        project_deletion,
        project_exports,
        project_gallery,
        project_pages,
        project_repeats,
        project_results,
        project_settings,
        projects,
        repeat_rules,
        repeats,
        results,
        review,
        species_jobs,
        upload,
    )

    for module in (
        upload,
        jobs,
        api,
        results,
        review,
        insights,
        events,
        repeats,
        deployments,
        ecology,
        camera_checks,
        accuracy,
        classes,
        species_jobs,
        metrics,
        admin,
        accounts,
        projects,
        project_results,
        project_settings,
        project_gallery,
        project_charts,
        project_exports,
        project_deletion,
        project_pages,
        project_repeats,
        repeat_rules,
        openapi,
        docs_site,
    ):
        app.register_blueprint(module.bp)
    init_errors(app)
    _error_pages(app)
    return app


def _error_pages(app: Flask) -> None:
    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def redis_down(exc: Exception) -> Any:
        app.logger.error("Redis unreachable: %s", exc)
        return error_response(503, REDIS_DOWN)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_down(exc: Exception) -> Any:
        app.logger.error("results database unreachable: %s", exc)
        response = app.make_response(error_response(503, DATABASE_DOWN))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code == 413:
            message = too_large()
        elif exc.code == 404:
            message = "There is nothing here. Check the link you were given."
        else:
            message = exc.description or ""
        response = app.make_response(error_response(exc.code or 500, message))
        # what the exception's own answer carries: Allow on a 405, WWW-Authenticate on a 401
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
