"""One run per work folder: two batch runs sharing a `--work-dir` would interleave their
checkpoint lines and annotated copies into one corrupt result."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.errors import InputError

LOCK_NAME = ".trapline.lock"


class WorkDirBusy(InputError):
    """Another run holds this work folder."""


@contextmanager
def work_dir_lock(work_dir: Path) -> Iterator[None]:
    """Holds an exclusive lock on the folder for the run. The kernel drops it when the process
    ends, however it ends, so a crash never leaves a stale lock behind."""
    fd = os.open(work_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkDirBusy(
                f"Another run is using the work folder {work_dir} right now. Wait "
                "for it to finish, or give this run its own --work-dir."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
