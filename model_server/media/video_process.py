"""Decoder processes: each video is decoded by a worker process that streams its sampled frames
back over a pipe, so a codec crash (a segfault in FFmpeg on a hostile file) ends that worker and
becomes the video's error, never the model server's death.

Workers are fresh interpreters started with `subprocess` (exec at once: the model server itself
never forks after TensorFlow is loaded, and multiprocessing's start methods would import the
model server's main module again in every child, half a second each). A worker that finished a
video waits for the next one, so a card of short clips pays the start-up once per loader, not
once per clip; a worker whose video was abandoned midway, or that died, is not reused."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from model_server.media.video_decode import DecodeRequest

log = logging.getLogger(__name__)

# A decoder that sends nothing for this long is stuck in a codec loop: it is killed and the
# video keeps the frames it had sent. Decoding one frame takes milliseconds.
STALL_SECONDS = 120.0
DECODE = "model_server.media.video_decode:decode"
MAX_IDLE = 4


class _Worker:
    def __init__(self) -> None:
        req_r, req_w = os.pipe()
        msg_r, msg_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "model_server.media.decoder_worker", str(req_r), str(msg_w)],
                pass_fds=(req_r, msg_w),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            os.close(req_r)
            os.close(msg_w)
        self.requests = Connection(req_w, readable=False)
        self.messages = Connection(msg_r, writable=False)

    def kill(self) -> None:
        self.requests.close()
        self.messages.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def retire(self) -> None:
        """Closing its requests pipe is the worker's signal to end."""
        self.requests.close()
        self.messages.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Pool:
    def __init__(self) -> None:
        self.idle: list[_Worker] = []
        self.lock = threading.Lock()
        atexit.register(self.shutdown)

    def take(self) -> _Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.kill()
        return _Worker()

    def give_back(self, worker: _Worker) -> None:
        with self.lock:
            if len(self.idle) < MAX_IDLE:
                self.idle.append(worker)
                return
        worker.retire()

    def shutdown(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.retire()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool()
        return _pool


@dataclass
class Frame:
    number: int
    time: float
    size: tuple[int, int]
    rgb: bytes
    thumbnail: bytes


class DecoderProcess:
    """One video being decoded. `facts` arrives first (or `unreadable`); then iterate `frames()`;
    `ending` says how decoding ended (counts of damaged packets) and `crash` whether the worker
    died. `decode` names the decoding function (`module:function`) the worker runs."""

    def __init__(
        self, request: DecodeRequest, *, stall_seconds: float = STALL_SECONDS, decode: str = DECODE
    ) -> None:
        self.stall_seconds = stall_seconds
        self.ending: dict[str, Any] = {}
        self.crash = ""
        self.facts: dict[str, Any] | None = None
        self.unreadable = ""
        self._done = False
        self._pool = _shared_pool()
        self._worker: _Worker | None = self._pool.take()
        try:
            self._worker.requests.send((decode, request))
        except OSError:
            self._lost("the video decoder could not be started")
        first = self._receive()
        if first is None:
            self.unreadable = self.crash or "the video decoder stopped before reading anything"
        elif first[0] == "facts":
            self.facts = first[1]
        else:
            self.unreadable = str(first[1])
            self._done = True

    def _lost(self, why: str) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        self.crash = why

    def _receive(self) -> tuple[Any, ...] | None:
        """The next message, or None when the worker is gone (with `crash` saying why)."""
        worker = self._worker
        if worker is None:
            return None
        try:
            if not worker.messages.poll(self.stall_seconds):
                self._lost(
                    f"the video decoder sent nothing for {self.stall_seconds:g} s and was stopped"
                )
                return None
            message: tuple[Any, ...] = worker.messages.recv()
        except (EOFError, OSError):
            try:
                code = worker.process.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            name = signal.Signals(-code).name if code is not None and code < 0 else code
            self._lost(
                f"the video decoder crashed ({name}) on this file"
                if code and code < 0
                else "the video decoder ended unexpectedly"
            )
            return None
        if message[0] == "crashed":
            self.crash = f"the video decoder failed ({message[1]})"
            self._done = True
            return None
        return message

    def frames(self) -> Iterator[Frame]:
        while (message := self._receive()) is not None:
            if message[0] == "end":
                self.ending = message[1]
                self._done = True
                return
            _, number, time, size, rgb, thumb = message
            yield Frame(number, time, tuple(size), rgb, thumb)

    def close(self) -> None:
        """Gives the worker back when its video is over; a worker still sending is killed."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if self._done:
            self._pool.give_back(worker)
        else:
            worker.kill()
