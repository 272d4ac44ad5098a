"""Refusals, one type and one handler: every request the site turns down raises `Refusal` (or a
domain error of `shared`, mapped here to its status) and is answered in the form the client
asked for: JSON for the API and scripts, a page for people, and a flashed message and a redirect
back for a page's own form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, flash, jsonify, make_response, redirect, render_template, request

from shared.contract import TransitionRefused
from shared.evaluation.truth_files import TruthError
from shared.store.class_sets import ClassSetError
from shared.store.queries import BadQuery
from shared.store.review import NotInJob, ReviewRefused


class Refusal(Exception):
    """A request refused, with the status and the words for the person or script. `page`: where
    a browser's form goes back to; `headers` are sent with the answer (Retry-After); `extra`
    fields join the JSON body."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        *,
        page: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.page = message, status, page
        self.headers = dict(headers or {})
        self.extra = extra


# What a refusal from the shared code means over HTTP; its own words are the message.
DOMAIN_STATUS: dict[type[Exception], int] = {
    ReviewRefused: 400,
    BadQuery: 400,
    ClassSetError: 400,
    TruthError: 400,
    NotInJob: 404,
    TransitionRefused: 409,
}


def from_page_form() -> bool:
    """A browser posting one of the site's own forms (not a script, not the page's fetch)."""
    return (
        bool(request.form)
        and request.accept_mimetypes.accept_html
        and "X-API-Key" not in request.headers
    )


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or "X-API-Key" in request.headers
        or not request.accept_mimetypes.accept_html
    )


def error_response(status: int, message: str) -> Any:
    if wants_json():
        return jsonify(error=message), status
    return render_template("error.html", message=message, status=status), status


def refusal_response(exc: Refusal) -> Any:
    if exc.page is not None and from_page_form():
        flash(exc.message, "error")
        response = redirect(exc.page, code=303)
    elif wants_json() or exc.page is not None:
        response = make_response(jsonify({"error": exc.message, **exc.extra}), exc.status)
    else:
        response = make_response(error_response(exc.status, exc.message))
    response.headers.update(exc.headers)
    return response


def init_errors(app: Flask) -> None:
    app.register_error_handler(Refusal, refusal_response)
    for kind, status in DOMAIN_STATUS.items():
        app.register_error_handler(
            kind, lambda exc, status=status: refusal_response(Refusal(str(exc), status))
        )
