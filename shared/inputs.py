"""Finding the photos and videos in what a researcher gives us: folders, zips (with folders
inside), files.

Zip members are read in place, never extracted, so a hostile name cannot write anywhere; every
relative path is cleaned to plain components before it is used in an output.
"""

from __future__ import annotations

import itertools
import os
import threading
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from shared.errors import ImageError, InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})
# What camera traps record: MP4/MOV (most), AVI (older Bushnell, Reconyx), ASF/WMV (older
# Moultrie, PICT*.ASF), MKV and M4V from converted footage.
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".asf", ".wmv", ".m4v"})
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
MEDIA_WORDS = "photos (JPEG, PNG, TIFF, BMP, WebP) or videos (MP4, AVI, MOV, MKV, ASF, WMV, M4V)"
# Files operating systems and cameras leave behind; never images, never worth a row.
JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def is_image_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


def is_video_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in VIDEO_SUFFIXES


def is_media_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in MEDIA_SUFFIXES


def clean_relative_path(name: str) -> str:
    """Plain components only: no drive, no leading slash, no `.` or `..` (zip slip)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts = parts[1:]
    return "/".join(parts)


def plain_name(original: str) -> str:
    """The researcher's own file name, made safe to store: last path component only, no control
    characters, no leading dots, at most 200 bytes. Spaces, parentheses and accents stay, because
    names like `StationC (2).JPG` carry meaning and appear in every report (werkzeug's
    secure_filename would turn them into `StationC_2.JPG`)."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = name.strip().lstrip(".").strip()
    stem, suffix = os.path.splitext(name)
    while len((stem + suffix).encode()) > 200 and stem:
        stem = stem[:-1]
    return (stem + suffix) or "upload"


def visible_name(rel: str) -> str:
    """The name as every page and output shows it: a control or formatting character (a bell,
    a right-to-left override that turns `\u202egpj.exe` into `exe.jpg` on screen) is written
    out as `[U+202E]`; the file is still read by its own name."""
    return "".join(
        f"[U+{ord(c):04X}]" if unicodedata.category(c) in ("Cc", "Cf") else c for c in rel
    )


def _is_junk(rel: str) -> bool:
    parts = rel.split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1].lower() in JUNK_NAMES


_zip_handles = threading.local()


def _open_zip(path: Path) -> zipfile.ZipFile:
    """One open ZipFile per thread and archive: ZipFile objects are not shared across threads."""
    handles: dict[Path, zipfile.ZipFile] = getattr(_zip_handles, "handles", None) or {}
    _zip_handles.handles = handles
    if path not in handles:
        handles[path] = zipfile.ZipFile(path)
    return handles[path]


def check_size(size: int, max_bytes: int) -> None:
    """Refuses a file larger than `max_bytes` before anything reads it."""
    if size > max_bytes:
        raise ImageError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")


@dataclass(frozen=True, slots=True)
class InputItem:
    """One photo- or video-named file: `member` is its path below the folder `root`, or its
    entry name in the zip `root`. `root` is one object shared by every item from the same input,
    so a batch of 200,000 photos costs a few hundred bytes per photo, not a Path object each."""

    rel_path: str
    root: Path
    member: str
    in_zip: bool = False

    def read(self, max_bytes: int) -> bytes:
        """The file's bytes, refusing anything larger than `max_bytes` before reading it."""
        if not self.in_zip:
            check_size(self.path.stat().st_size, max_bytes)
            return self.path.read_bytes()
        archive = _open_zip(self.root)
        info = archive.getinfo(self.member)
        if info.flag_bits & 0x1:
            raise ImageError("file is encrypted inside the zip; upload it without a password")
        check_size(info.file_size, max_bytes)
        try:
            with archive.open(info) as fh:
                data = fh.read(max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            # zipfile stops at the declared size and checks the CRC: a lying entry lands here
            raise ImageError(f"file is damaged inside the zip ({exc})") from None
        if len(data) > max_bytes:
            raise ImageError("file unpacks to more than its zip entry declares (zip bomb?)")
        return data

    @property
    def path(self) -> Path:
        """A file on disk: where it is (a zip entry's is its zip)."""
        return self.root / self.member if self.member and not self.in_zip else self.root

    @property
    def kind(self) -> str:
        """`video` or `image`, by the name's suffix (the decoder finds out what it really is)."""
        return "video" if is_video_name(self.rel_path) else "image"


@dataclass
class Inventory:
    items: list[InputItem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not media: listed in the summary

    def add(self, rel: str, root: Path, member: str = "", *, in_zip: bool = False) -> None:
        rel = visible_name(clean_relative_path(rel))
        if not rel or _is_junk(rel):
            return
        if not is_media_name(rel):
            self.skipped.append(rel)
            return
        self.items.append(InputItem(rel, root, rel if member == rel else member, in_zip))


MAX_ENTRIES = 200_000  # an SD card holds tens of thousands; millions of entries is an attack
# Camera photos barely compress (JPEG inside a zip is about 1:1), so a zip that unpacks to twenty
# times its size and to more than 64 MB is built to exhaust the server, not a card of photos.
MAX_EXPANSION, EXPANSION_FLOOR = 20, 64 * 1024 * 1024
LOCAL_HEADER_BYTES = 30


def _entry_end(info: zipfile.ZipInfo) -> int:
    """Where an entry's data ends, at the least (its local extra field can only add to it)."""
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    name = len(info.orig_filename.encode(encoding, errors="replace"))
    return info.header_offset + LOCAL_HEADER_BYTES + name + info.compress_size


def _check_layout(path: Path, infos: list[zipfile.ZipInfo], max_file_bytes: int) -> None:
    """Refuses zips whose entries share their data (one compressed block listed many times:
    a zip bomb that costs minutes and gigabytes) or that unpack far beyond their size. Entries
    over the per-file limit do not count: they are refused one by one, never unpacked."""
    files = sorted((i for i in infos if not i.is_dir()), key=lambda i: i.header_offset)
    for first, second in itertools.pairwise(files):
        if second.header_offset < _entry_end(first):
            raise InputError(
                f"{path.name} is not a normal zip: its entries {first.filename!r} "
                f"and {second.filename!r} overlap inside the archive (a zip bomb "
                "trick). Please zip the photos again with an ordinary tool."
            )
    unpacked = sum(i.file_size for i in files if i.file_size <= max_file_bytes)
    packed = path.stat().st_size
    if unpacked > max(EXPANSION_FLOOR, MAX_EXPANSION * packed):
        raise InputError(
            f"{path.name} would unpack to {unpacked / 1e9:.2f} GB from "
            f"{packed / 1e6:.1f} MB; camera photos do not compress like that, so "
            "it is refused as a zip bomb."
        )


def _scan_zip(inv: Inventory, path: Path, prefix: str, max_file_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{path.name} is not a readable zip file ({exc}).") from exc
    if len(infos) + len(inv.items) > MAX_ENTRIES:
        raise InputError(
            f"{path.name} holds {len(infos):,} files; at most {MAX_ENTRIES:,} can be "
            "processed in one job. Please split it into smaller zips."
        )
    _check_layout(path, infos, max_file_bytes)
    for info in infos:
        if info.is_dir():
            continue
        mode = (info.external_attr >> 16) & 0o170000
        if mode and mode != 0o100000:  # symbolic links and device entries are never media
            inv.skipped.append(clean_relative_path(info.filename))
            continue
        inv.add(f"{prefix}{info.filename}", path, info.filename, in_zip=True)


def _dedupe(items: list[InputItem]) -> list[InputItem]:
    """Two entries may clean to the same path (`a/../b.jpg` and `b.jpg`): keep both, renamed."""
    seen: set[str] = set()
    out = []
    for item in items:
        rel = item.rel_path
        n = 2
        while rel.lower() in seen:
            stem = PurePosixPath(item.rel_path)
            rel = str(stem.with_name(f"{stem.stem}~{n}{stem.suffix}"))
            n += 1
        seen.add(rel.lower())
        out.append(
            item if rel == item.rel_path else InputItem(rel, item.root, item.member, item.in_zip)
        )
    return out


DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024  # Settings.max_file_bytes


def collect_inputs(
    paths: list[Path], *, named: bool = False, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Inventory:
    """Every photo and video in `paths`, sorted by relative path. With one folder or zip, paths are
    relative to it; with several inputs (or `named`) each keeps its own name as the first
    folder."""
    inv = Inventory()
    single = len(paths) == 1 and not named
    for path in paths:
        if not path.exists():
            raise InputError(f"{path} does not exist.")
        if path.is_dir():
            prefix = "" if single else f"{path.name}/"
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
                member = file.relative_to(path).as_posix()
                inv.add(prefix + member, path, member)
        elif path.suffix.lower() == ".zip":
            _scan_zip(inv, path, "" if single else f"{path.stem}/", max_file_bytes)
        else:
            inv.add(path.name, path)
    inv.items = sorted(_dedupe(inv.items), key=lambda i: (i.rel_path.casefold(), i.rel_path))
    return inv


def collect_upload(
    entries: list[Path], *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Inventory:
    """What a job's upload holds. A lone zip (an SD card) reads relative to itself; otherwise
    every entry keeps its name, so photos from dropped camera folders stay apart
    (`CamA/IMG_0001.JPG`, `CamB/IMG_0001.JPG`)."""
    lone_zip = len(entries) == 1 and entries[0].is_file() and entries[0].suffix.lower() == ".zip"
    return collect_inputs(entries, named=not lone_zip, max_file_bytes=max_file_bytes)
