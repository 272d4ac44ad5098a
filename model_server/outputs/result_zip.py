"""The result zip, written under a temporary name and renamed into place when complete."""

from __future__ import annotations

import contextlib
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

# A file on disk, or something that opens one (a member of another zip, for an export again).
Source = Path | Callable[[], IO[bytes]]

from shared.errors import ResultsError


def write_result_zip(
    dest: Path,
    entries: Iterable[tuple[str, Source, bool]],
    may_publish: Callable[[], bool] = lambda: True,
) -> bool:
    """`entries` are (name in zip, source, compress?). JPEGs are stored as they are:
    deflating them again costs time and saves almost nothing. The finished file is renamed into
    place only if `may_publish()` still says yes; False when it said no (nothing published)."""
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            for arcname, source, compress in entries:
                method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                if isinstance(source, Path):
                    archive.write(source, arcname, compress_type=method)
                    continue
                info = zipfile.ZipInfo(arcname)
                info.compress_type = method
                with source() as src, archive.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
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
            f"could not write the result zip {dest.name}: {exc.strerror or exc}"
        ) from exc
