"""The decoder worker's body: a fresh interpreter (`python -m model_server.media.decoder_worker
REQUESTS MESSAGES`) that has imported PyAV and never TensorFlow. It takes one video request at
a time from the model server and streams that video's messages back, until its requests pipe
closes (the model server ended or no longer needs it)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import cache
from multiprocessing.connection import Connection


@cache
def _function(name: str) -> Callable[..., None]:
    module, _, attribute = name.partition(":")
    found: Callable[..., None] = getattr(importlib.import_module(module), attribute)
    return found


def serve(requests: Connection, messages: Connection) -> None:
    while True:
        try:
            name, request = requests.recv()
        except (EOFError, OSError):
            return
        try:
            _function(name)(request, messages.send)
        except (BrokenPipeError, EOFError):
            return
        except Exception as exc:  # noqa: BLE001 - sent back: it becomes the video's error
            messages.send(("crashed", f"{type(exc).__name__}: {exc}"))


def main(argv: list[str]) -> None:
    sys.stdout = sys.stderr  # nothing printed may land in a pipe
    requests = Connection(int(argv[0]), writable=False)
    messages = Connection(int(argv[1]), readable=False)
    serve(requests, messages)


if __name__ == "__main__":
    main(sys.argv[1:])
