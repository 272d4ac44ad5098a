"""Decoders that fail the way a codec can, run inside the real decoder process by the tests."""

from __future__ import annotations

import os
import signal
from typing import Any

from model_server.media.video_decode import DecodeRequest, Send, decode

CRASH_AFTER_FRAMES = 3


def segfault_after_three_frames(request: DecodeRequest, send: Send) -> None:
    """Decodes for real, then dies of SIGSEGV as a codec bug would, mid-video."""
    sent = [0]

    def counting(message: tuple[Any, ...]) -> None:
        send(message)
        if message[0] == "frame":
            sent[0] += 1
            if sent[0] == CRASH_AFTER_FRAMES:
                os.kill(os.getpid(), signal.SIGSEGV)

    decode(request, counting)


def segfault_at_once(request: DecodeRequest, send: Send) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)
