"""Each route reads at most its limit from a body that has no length (issue 33, item 8), and
says which limit: werkzeug alone stops at the limit and hands the view what it read as the whole
body. Straight to real gunicorn: tests/deploy/test_gunicorn_limits.py."""

from __future__ import annotations

import io

import pytest
from flask import Flask, Request, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from web import resources
from web.body_limits import SMALL, LimitedRequest, limits

START = b'{"places": {"B013": [1.5, 2.5]}}'


def without_length(body: bytes, path: str = "/", kind: str = "application/json") -> dict:
    """A POST whose body has no Content-Length, from a server that ends the stream itself (as
    gunicorn does for a chunked body)."""
    environ = EnvironBuilder(
        path=path, method="POST", input_stream=io.BytesIO(body), content_type=kind
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    return environ


def test_werkzeug_alone_reads_json_cut_at_the_limit_as_the_whole_body(app: Flask) -> None:
    """Why LimitedRequest exists: the first SMALL bytes of a longer body parse."""
    environ = without_length(START + b" " * SMALL)
    with app.request_context(environ):
        plain = Request(environ)
        plain.max_content_length = SMALL
        assert plain.get_json() == {"places": {"B013": [1.5, 2.5]}}


def test_one_byte_past_the_limit_is_refused_and_the_limit_itself_is_read(app: Flask) -> None:
    assert app.request_class is LimitedRequest
    with app.request_context(without_length(START + b" " * SMALL)):
        request.max_content_length = SMALL
        with pytest.raises(RequestEntityTooLarge):
            request.get_json()
    with app.request_context(without_length(START + b" " * (SMALL - len(START)))):
        request.max_content_length = SMALL
        assert request.get_json() == {"places": {"B013": [1.5, 2.5]}}


def test_a_route_without_a_length_gets_its_limit(app: Flask, client) -> None:
    """A form (1 MB) is refused with the route's limit named; the upload routes take files up
    to theirs."""
    body = b"user=alice&password=x&pad=" + b" " * SMALL
    with client.open(
        without_length(body, "/login", "application/x-www-form-urlencoded")
    ) as refused:
        assert refused.status_code == 413, refused.get_data(as_text=True)[:300]
        assert "1 MB at most" in refused.get_data(as_text=True)
    settings = resources_settings(app)
    found = limits(settings, app.config["CHUNK_BYTES"])
    assert found["api.create"] == settings.max_upload_bytes
    assert found["upload.chunk"] == app.config["CHUNK_BYTES"] + SMALL


def resources_settings(app: Flask):
    with app.app_context():
        return resources.settings()
