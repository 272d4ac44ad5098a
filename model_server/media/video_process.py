"""Decoder processes: each video is decoded in a child process that streams its sampled frames
back over a pipe, so a codec crash (a segfault in FFmpeg on a hostile file) ends that child and
becomes the video's error, never the model server's death.

Children come from a fork server: a fresh interpreter, started once, that has imported PyAV but
never TensorFlow, forks one child per video in milliseconds (the model server itself never
forks after TensorFlow is loaded)."""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from model_server.media.video_decode import DecodeRequest, Send, decode

log = logging.getLogger(__name__)

# A decoder that sends nothing for this long is stuck in a codec loop: it is killed and the
# video keeps the frames it had sent. Decoding one frame takes milliseconds.
STALL_SECONDS = 120.0
PRELOAD = ["model_server.media.video_process"]


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


Decode = Callable[[DecodeRequest, Send], None]


def _child(decode: Decode, request: DecodeRequest, conn: Connection) -> None:
    """The decoder process's body. `decode` travels by name (a module-level function), so a
    test can hand in one that crashes the way a codec would."""
    try:
        decode(request, conn.send)
    except BrokenPipeError:  # the model server stopped listening (job cancelled)
        pass
    except Exception as exc:  # noqa: BLE001 - sent to the parent: it becomes the video's error
        conn.send(("crashed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


@dataclass
class Frame:
    number: int
    time: float
    size: tuple[int, int]
    rgb: bytes
    thumbnail: bytes


class DecoderProcess:
    """One video being decoded. `facts` arrives first (or `unreadable`); then iterate `frames()`;
    `ending` says how decoding ended (counts of damaged packets, a crash) once it is over."""

    def __init__(self, request: DecodeRequest, *, stall_seconds: float = STALL_SECONDS,
                 decode: Decode = decode) -> None:
        ctx = _context()
        self._conn, child_conn = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_child, args=(decode, request, child_conn),
                                    daemon=True, name="trapline-video")
        self._process.start()
        child_conn.close()
        self.stall_seconds = stall_seconds
        self.ending: dict[str, Any] = {}
        self.crash: str = ""
        self.facts: dict[str, Any] | None = None
        self.unreadable: str = ""
        first = self._receive()
        if first is None:
            self.unreadable = self.crash or "the video decoder stopped before reading anything"
        elif first[0] == "facts":
            self.facts = first[1]
        else:
            self.unreadable = str(first[1])

    def _receive(self) -> tuple[Any, ...] | None:
        """The next message, or None when the child is gone (with `crash` saying why)."""
        try:
            if not self._conn.poll(self.stall_seconds):
                self.crash = (f"the video decoder sent nothing for {self.stall_seconds:g} s and "
                              "was stopped")
                self.close()
                return None
            message: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(5)
            code = self._process.exitcode
            if code is not None and code < 0:
                name = signal.Signals(-code).name if -code in signal.valid_signals() else code
                self.crash = f"the video decoder crashed ({name}) on this file"
            else:
                self.crash = "the video decoder ended unexpectedly"
            return None
        if message[0] == "crashed":
            self.crash = f"the video decoder failed ({message[1]})"
            return None
        return message

    def frames(self) -> Iterator[Frame]:
        while (message := self._receive()) is not None:
            if message[0] == "end":
                self.ending = message[1]
                return
            _, number, time, size, rgb, thumb = message
            yield Frame(number, time, tuple(size), rgb, thumb)

    def close(self) -> None:
        self._conn.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)
