"""Finding the truth in what a researcher hands over: a folder or zip holding a Camtrap DP
package, its `datapackage.json` or `observations.csv`, a CSV, or a COCO Camera Traps JSON, on
disk (the command line, a model server's evaluation) or uploaded (the job page).

Every file is read as a stream, row by row or JSON item by item: what stays in memory is the
truth itself, never the file's text or its whole JSON tree."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from shared.errors import TruthError
from shared.evaluation.model import TruthSet
from shared.evaluation.truth_formats import Opener, read_camtrap_dp, read_coco, read_csv

MAX_TRUTH_BYTES = 200 * 1024 * 1024  # per file read from a zip; a 100,000-row CSV is ~10 MB
FORMATS = (
    "a Camtrap DP package (observations.csv with media.csv, or a zip or folder of it), "
    "a CSV with file and category columns, or a COCO Camera Traps JSON"
)


def read_truth_files(files: Mapping[str, bytes], max_unpacked: int = MAX_TRUTH_BYTES) -> TruthSet:
    """`files`: names (any folders) to contents already in memory (small uploads, tests)."""
    return read_truth({n: partial(io.BytesIO, data) for n, data in files.items()}, max_unpacked)


def read_truth_paths(paths: Iterable[Path], max_unpacked: int = MAX_TRUTH_BYTES) -> TruthSet:
    """Truth files on disk, each known by its own name (an evaluation's stored upload)."""
    return read_truth({p.name: _file(p) for p in paths}, max_unpacked)


def _file(path: Path) -> Opener:
    return lambda: path.open("rb")


def read_truth(sources: Mapping[str, Opener], max_unpacked: int = MAX_TRUTH_BYTES) -> TruthSet:
    """`sources`: names to what opens each one as a binary stream (again, for each pass). A zip
    among them is opened in place; what its truth files unpack to may not add up to more than
    `max_unpacked` bytes (a 775 KB zip had made 0.9 GB in a web worker)."""
    with ExitStack() as stack:
        found: dict[str, Opener] = {}
        left = max_unpacked
        for name, opener in sources.items():
            if name.lower().endswith(".zip"):
                members, size = _zip_members(name, opener, left, stack)
                left -= size
                found.update(members)
            else:
                found[name] = opener
        try:
            return _read(found)
        except zipfile.BadZipFile as exc:  # a member that is not what its header says
            raise TruthError(f"a truth file in the zip cannot be read: {exc}") from None


def _read(found: dict[str, Opener]) -> TruthSet:
    by_base = {PurePosixPath(n.replace("\\", "/")).name.lower(): n for n in found}
    if "observations.csv" in by_base:
        if "media.csv" not in by_base:
            raise TruthError(
                "a Camtrap DP observations.csv needs the package's media.csv "
                "with it, to know which file each mediaID is"
            )
        observations, media = by_base["observations.csv"], by_base["media.csv"]
        with _lines(found, observations) as rows, _lines(found, media) as media_rows:
            return read_camtrap_dp(rows, media_rows)
    useful = [
        n
        for n in found
        if n.lower().endswith((".csv", ".json")) and not n.lower().endswith("datapackage.json")
    ]
    if len(useful) != 1:
        raise TruthError(
            f"expected one truth file: {FORMATS}; got " + (", ".join(sorted(found)) or "nothing")
        )
    name = useful[0]
    if name.lower().endswith(".csv"):
        with _lines(found, name) as rows:
            return read_csv(rows)
    return read_coco(found[name], name, FORMATS)


@contextmanager
def _lines(found: Mapping[str, Opener], name: str) -> Iterator[Iterator[str]]:
    """The file's lines as text, decoded as they are read; bytes that are not UTF-8 are a
    TruthError naming the file."""
    with found[name]() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        yield _decoded(name, text)


def _decoded(name: str, text: IO[str]) -> Iterator[str]:
    try:
        yield from text
    except UnicodeDecodeError:
        raise TruthError(f"{name} is not UTF-8 text") from None


def read_truth_path(path: Path) -> TruthSet:
    """A file, or a folder (a Camtrap DP package's); `datapackage.json` or `observations.csv`
    means the package beside it."""
    if not path.exists():
        raise TruthError(f"{path} does not exist")
    folder = path if path.is_dir() else path.parent
    if path.is_dir() or path.name.lower() in ("datapackage.json", "observations.csv", "media.csv"):
        names = ("observations.csv", "media.csv")
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise TruthError(f"{folder} is not a Camtrap DP package: no {' or '.join(missing)}")
        return read_truth_paths(folder / n for n in names)
    if path.stat().st_size > MAX_TRUTH_BYTES:
        raise TruthError(f"{path.name} is larger than {MAX_TRUTH_BYTES // 2**20} MB")
    return read_truth_paths([path])


def _zip_members(
    name: str, opener: Opener, most: int, stack: ExitStack
) -> tuple[dict[str, Opener], int]:
    """The zip's CSV and JSON members, each opened from the zip when read, and what they unpack
    to; refused before anything is unpacked when their sizes add up to more than `most` bytes
    (a member larger than its header says fails its CRC as it is read)."""
    try:
        archive = stack.enter_context(zipfile.ZipFile(stack.enter_context(opener())))
    except zipfile.BadZipFile:
        raise TruthError(f"{name} is not a readable zip") from None
    wanted = [
        i
        for i in archive.infolist()
        if not i.is_dir()
        and i.filename.lower().endswith((".csv", ".json"))
        and "__MACOSX" not in i.filename
    ]
    size = sum(info.file_size for info in wanted)
    if size > most:
        raise TruthError(
            f"the truth files in {name} unpack to more than {_mib(most)}; send the "
            "truth without the photos, or split it"
        )
    return {info.filename: _member(archive, info) for info in wanted}, size


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: archive.open(info)


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n:,} bytes"
