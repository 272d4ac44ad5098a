"""The result zip, written under a temporary name and renamed into place when complete."""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from shared.errors import ResultsError


def write_result_zip(dest: Path, entries: Iterable[tuple[str, Path, bool]],
                     may_publish: Callable[[], bool] = lambda: True) -> bool:
    """`entries` are (name in zip, file on disk, compress?). JPEGs are stored as they are:
    deflating them again costs time and saves almost nothing. The finished file is renamed into
    place only if `may_publish()` still says yes; False when it said no (nothing published)."""
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            for arcname, path, compress in entries:
                method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                archive.write(path, arcname, compress_type=method)
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        if not may_publish():
            partial.unlink(missing_ok=True)
            return False
        os.replace(partial, dest)
        return True
    except OSError as exc:
        with contextlib.suppress(OSError):  # the folder itself may be what is broken
            partial.unlink(missing_ok=True)
        raise ResultsError(
            f"could not write the result zip {dest.name}: {exc.strerror or exc}") from exc
