"""How many bytes each route reads from a request's body, whatever its headers say (issue 33,
item 8): a body sent without a length straight to gunicorn (chunked) passed the deployments
route's 1 MB check, which looked only at `Content-Length`, and was read up to the site's upload
limit (+6.7 GB in a web worker).

Every request gets its route's limit before anything reads the body: the upload routes the
upload limit (a chunk its size), truth files for an evaluation theirs, every other route 1 MB.
A body that says a longer length is refused at once (413); one without a length is read up to
the limit and refused when one more byte follows. werkzeug alone stops reading at the limit and
hands the view the first part as if it were the whole body: `{"a": 1}` followed by 6 GB of
spaces parsed as `{"a": 1}`."""

from __future__ import annotations

from typing import IO, Any

from flask import Flask, Request, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

from shared.settings import Settings
from web.job_status import human_size

SMALL = 1 << 20  # a form, a review, coordinates: anything that is not a file
UPLOADS = {"upload.chunk", "upload.submit", "api.create", "classes.add_examples"}


def limits(settings: Settings, chunk_bytes: int) -> dict[str, int]:
    """The routes that take files, by endpoint; every other one reads at most SMALL."""
    whole = settings.max_upload_bytes
    return {
        "upload.chunk": chunk_bytes + SMALL,
        "upload.submit": whole,
        "api.create": whole,
        "classes.add_examples": whole,
        "accuracy.page": settings.max_truth_bytes + SMALL,
        "accuracy.evaluation_against_truth": settings.max_truth_bytes + SMALL,
    }


def too_large() -> str:
    """What a 413 says: the limit of the route that refused the body."""
    limit = request.max_content_length or 0
    what = "upload" if request.endpoint in UPLOADS else "request"
    return f"The {what} is larger than this address accepts ({human_size(limit)} at most)."


class BodyUntilLimit(LimitedStream):
    """A body without a length, read up to its route's limit: at the limit, one more byte
    waiting means the body is longer (413), none means it ended there."""

    def on_exhausted(self) -> None:
        if self._stream.read(1):
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted:
            self.on_exhausted()
        return data


class LimitedRequest(Request):
    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if (
            limit is None
            or self.content_length is not None
            or "wsgi.input_terminated" not in self.environ
        ):
            return get_input_stream(self.environ, max_content_length=limit)
        return BodyUntilLimit(self.environ["wsgi.input"], limit, is_max=True)  # type: ignore[return-value]


def init_body_limits(app: Flask, settings: Settings) -> None:
    """Call before any before_request that reads the body."""
    app.request_class = LimitedRequest
    by_endpoint = limits(settings, int(app.config["CHUNK_BYTES"]))
    app.config["MAX_CONTENT_LENGTH"] = SMALL

    @app.before_request
    def route_limit() -> Any:
        found = by_endpoint.get(request.endpoint or "")
        if found is not None:
            request.max_content_length = found
        return None
