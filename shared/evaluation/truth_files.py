"""Finding the truth in what a researcher hands over: a folder or zip holding a Camtrap DP
package, its `datapackage.json` or `observations.csv`, a CSV, or a COCO Camera Traps JSON, on
disk (the command line) or uploaded (the job page)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path, PurePosixPath

from shared.errors import TruthError
from shared.evaluation.model import TruthSet
from shared.evaluation.truth_formats import read_camtrap_dp, read_coco, read_csv

MAX_TRUTH_BYTES = 200 * 1024 * 1024  # per file read from a zip; a 100,000-row CSV is ~10 MB
FORMATS = (
    "a Camtrap DP package (observations.csv with media.csv, or a zip or folder of it), "
    "a CSV with file and category columns, or a COCO Camera Traps JSON"
)


def read_truth_files(files: dict[str, bytes], max_unpacked: int = MAX_TRUTH_BYTES) -> TruthSet:
    """`files`: names (any folders) to contents. A zip among them is opened; what the zips
    unpack to may not add up to more than `max_unpacked` bytes (a 775 KB zip had made 0.9 GB
    in a web worker)."""
    found: dict[str, bytes] = {}
    left = max_unpacked
    for name, data in files.items():
        if name.lower().endswith(".zip"):
            members = _zip_members(name, data, left)
            left -= sum(len(v) for v in members.values())
            found.update(members)
        else:
            found[name] = data
    by_base = {PurePosixPath(n.replace("\\", "/")).name.lower(): n for n in found}
    if "observations.csv" in by_base:
        if "media.csv" not in by_base:
            raise TruthError(
                "a Camtrap DP observations.csv needs the package's media.csv "
                "with it, to know which file each mediaID is"
            )
        return read_camtrap_dp(
            _text(found, by_base["observations.csv"]), _text(found, by_base["media.csv"])
        )
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
        return read_csv(_text(found, name))
    try:
        data = json.loads(_text(found, name))
    except json.JSONDecodeError as exc:
        raise TruthError(f"{name} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and "annotations" in data and "categories" in data:
        return read_coco(data)
    raise TruthError(
        f"{name} is not a COCO Camera Traps file (no 'annotations' and 'categories'); {FORMATS}"
    )


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
        return read_truth_files({n: (folder / n).read_bytes() for n in names})
    if path.stat().st_size > MAX_TRUTH_BYTES:
        raise TruthError(f"{path.name} is larger than {MAX_TRUTH_BYTES // 2**20} MB")
    return read_truth_files({path.name: path.read_bytes()})


def _zip_members(name: str, data: bytes, most: int) -> dict[str, bytes]:
    """The zip's CSV and JSON members, refused before anything is unpacked when their sizes
    add up to more than `most` bytes (a member larger than its header says fails its CRC)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            wanted = [
                i
                for i in archive.infolist()
                if not i.is_dir()
                and i.filename.lower().endswith((".csv", ".json"))
                and "__MACOSX" not in i.filename
            ]
            if sum(info.file_size for info in wanted) > most:
                raise TruthError(
                    f"the truth files in {name} unpack to more than {_mib(most)}; send the "
                    "truth without the photos, or split it"
                )
            return {info.filename: archive.read(info) for info in wanted}
    except zipfile.BadZipFile:
        raise TruthError(f"{name} is not a readable zip") from None


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n:,} bytes"


def _text(files: dict[str, bytes], name: str) -> str:
    try:
        return files[name].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TruthError(f"{name} is not UTF-8 text") from None
