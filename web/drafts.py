"""Draft folders: the files a browser tab has dropped on the upload page before its form is sent.

Each page load opens its own draft (so two tabs never share files), listed in the session so only
the browser that loaded the page can write to it. Dropzone sends each file in chunks; a file in
flight is `.<uuid>.part` with a `.<uuid>.json` beside it that holds its name and declared size,
so quotas count files still arriving and the page can name a file that never finished. A
finished file leaves `.<uuid>.done` naming it. Every chunk may arrive again (a retry after a
lost answer or a restart of the site): it is written at its offset once more, and a repeated
last chunk of a finished file answers that file's name, so the page can resume from what
`arrived` says the server holds.
Dropped folders keep their structure: `CamA/IMG_0001.JPG` and `CamB/IMG_0001.JPG` stay apart.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import session

from shared.errors import InputError
from shared.inputs import MEDIA_WORDS, clean_relative_path, collect_inputs, plain_name
from shared.storage import Storage, new_job_id
from web.errors import Refusal
from web.intake import safe_name

SESSION_KEY = "drafts"
MAX_DRAFTS = 20  # open pages remembered per browser session
MAX_DEPTH = 12  # folder levels kept from a dropped folder
COPY_BLOCK = 1 << 20


def open_new() -> str:
    """A fresh draft for one page load, remembered in this browser's session."""
    draft = new_job_id()
    owned = [d for d in session.get(SESSION_KEY, []) if isinstance(d, str)][-(MAX_DRAFTS - 1) :]
    session[SESSION_KEY] = [*owned, draft]
    return draft  # its folder is made by the first file, so page views leave nothing on disk


def owned(storage: Storage, draft: str) -> Path:
    """The draft's folder, if this browser's session opened it; else a refusal."""
    if draft not in session.get(SESSION_KEY, []):
        raise Refusal(
            "This upload page has expired or was opened in another browser. "
            "Please reload the page and add your files again."
        )
    return storage.draft_dir(draft)


@dataclass(frozen=True)
class Chunk:
    uuid: str
    index: int
    total: int
    offset: int
    size: int
    filename: str
    fullpath: str  # Dropzone's path inside a dropped folder, "" for single files


def _meta(folder: Path, uuid: str) -> Path:
    return folder / f".{uuid}.json"


def _part(folder: Path, uuid: str) -> Path:
    return folder / f".{uuid}.part"


def _done(folder: Path, uuid: str) -> Path:
    return folder / f".{uuid}.done"


def arrived(folder: Path, uuid: str) -> dict[str, object]:
    """What the server holds of the file Dropzone calls `uuid`: `done` with its name in the
    draft, `arriving` with the chunk indices received, or `unknown` (never started, or
    removed)."""
    name = _finished_name(folder, uuid)
    if name is not None:
        return {"state": "done", "name": name}
    try:
        info = json.loads(_meta(folder, uuid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "unknown"}
    received = sorted(int(i) for i in info.get("received", {}))
    return {"state": "arriving", "received": received, "size": info.get("size", 0)}


def _finished_name(folder: Path, uuid: str) -> str | None:
    try:
        name = _done(folder, uuid).read_text(encoding="utf-8")
    except OSError:
        return None
    return name if (folder / name).is_file() else None


def relative_target(folder: Path, filename: str, fullpath: str) -> str:
    """Where a finished file goes in the draft: the dropped folder's path (each part made
    plain), then a name that is free there and has an accepted suffix."""
    parts = clean_relative_path(fullpath).split("/")[:-1][-MAX_DEPTH:] if fullpath else []
    dirs = [p for p in (plain_name(part) for part in parts) if p and p != "upload"]
    target_dir = folder.joinpath(*dirs)
    return "/".join([*dirs, safe_name(filename, target_dir)])


def in_flight(folder: Path) -> list[dict[str, object]]:
    out = []
    for meta in sorted(folder.glob(".*.json")):
        try:
            out.append(json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def finished_files(folder: Path) -> list[dict[str, object]]:
    """Complete files, by their path in the draft, with sizes."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return [
        {"name": p.relative_to(folder).as_posix(), "size": p.stat().st_size} for p in sorted(files)
    ]


def used_bytes(folder: Path) -> int:
    """Finished files plus the declared size of every file still arriving."""
    done = sum(int(f["size"]) for f in finished_files(folder))  # type: ignore[call-overload]
    arriving = sum(int(m.get("size", 0)) for m in in_flight(folder))  # type: ignore[call-overload]
    return done + arriving


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One file starting in a draft at a time (across the site's processes), so parallel first
    chunks cannot each pass the quota check before any of them is counted."""
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_free_space(folder: Path, still_to_come: int, min_free: int) -> None:
    if shutil.disk_usage(folder).free - still_to_come < min_free:
        raise Refusal(
            "The server is running out of disk space, so it cannot take this file now. "
            "Please try again later; the administrators have been told by the site's logs.",
            507,
        )


def write_chunk(
    folder: Path,
    chunk: Chunk,
    stream: IO[bytes],
    chunk_bytes: int,
    limit: int,
    *,
    min_free: int = 0,
    reserve: Callable[[int], None] = lambda size: None,
) -> str | None:
    """Writes one chunk at its offset, never more than the declared file size or the chunk size
    allows, and never past `min_free` bytes left on the disk. A file's first chunk counts its
    declared size against the draft's `limit` and, through `reserve`, the address's daily
    budget. Returns the file's name in the draft once its last chunk is in."""
    part, meta = _part(folder, chunk.uuid), _meta(folder, chunk.uuid)
    _check_free_space(folder, chunk.size - chunk.offset, min_free)
    if chunk.index == 0 and not meta.exists():
        with _locked(folder):
            if used_bytes(folder) + chunk.size > limit:
                raise Refusal("The upload is larger than this site accepts.", 413)
            reserve(chunk.size)
            name = relative_target(folder, chunk.filename, chunk.fullpath)
            meta.write_text(
                json.dumps({"name": name, "size": chunk.size, "uuid": chunk.uuid}),
                encoding="utf-8",
            )
    elif not meta.exists():
        finished = _finished_name(folder, chunk.uuid)
        if finished is not None and chunk.index == chunk.total - 1:
            return finished  # its last chunk again: the answer was lost, the file is whole
        raise Refusal("This file's upload was not started or was removed; please drop it again.")
    try:
        written = _write_at(part, meta, chunk, stream, chunk_bytes)
    except Refusal:  # a refused file never lingers half-written to block Submit
        discard(folder, uuid=chunk.uuid)
        raise
    with _locked(folder):
        info = json.loads(meta.read_text(encoding="utf-8"))
        info.setdefault("received", {})[str(chunk.index)] = written
        meta.write_text(json.dumps(info), encoding="utf-8")
    if chunk.index < chunk.total - 1:
        return None
    # the bytes that arrived, chunk by chunk (a retried chunk counts once): a file made of its
    # first and last chunks has the right size on disk, but holes in between
    if part.stat().st_size != chunk.size or sum(info["received"].values()) != chunk.size:
        discard(folder, uuid=chunk.uuid)
        raise Refusal("The upload was incomplete; please drop the file again.")
    target = folder / info["name"]
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    _done(folder, chunk.uuid).write_text(str(info["name"]), encoding="utf-8")
    meta.unlink()
    return str(info["name"])


def _write_at(part: Path, meta: Path, chunk: Chunk, stream: IO[bytes], chunk_bytes: int) -> int:
    """Writes the chunk at its offset; how many bytes it held."""
    info = json.loads(meta.read_text(encoding="utf-8"))
    if info["size"] != chunk.size or not 0 <= chunk.offset < max(chunk.size, 1):
        raise Refusal("This chunk does not belong to the file being uploaded.")
    allowed = min(chunk_bytes, chunk.size - chunk.offset)
    with part.open("r+b" if part.exists() else "wb") as fh:
        fh.seek(chunk.offset)
        written = 0
        while block := stream.read(COPY_BLOCK):
            written += len(block)
            if written > allowed:
                raise Refusal("A chunk was larger than its file allows.", 413)
            fh.write(block)
    return written


def problem_with(path: Path) -> str | None:
    """Why a finished file cannot be part of a job (a zip that cannot be read or holds no
    photos or videos), or None. Media are checked by the model server, one error row each."""
    if path.suffix.lower() != ".zip":
        return None
    try:
        found = collect_inputs([path])
    except InputError as exc:
        return str(exc)
    if not found.items:
        return f"{path.name} holds no {MEDIA_WORDS}."
    return None


def discard(folder: Path, *, name: str = "", uuid: str = "") -> bool:
    """Removes a finished file (by its name in the draft) or one still arriving (by uuid)."""
    removed = False
    if uuid:
        for path in (_part(folder, uuid), _meta(folder, uuid), _done(folder, uuid)):
            if path.exists():
                path.unlink()
                removed = True
    if name:
        rel = clean_relative_path(name)
        target = folder / rel
        if rel and target.is_file() and not target.is_symlink():
            target.unlink()
            removed = True
            for parent in target.parents:  # empty folders left by the removal go too
                if parent == folder or any(parent.iterdir()):
                    break
                parent.rmdir()
    return removed


def drop_unusable(folder: Path) -> list[str]:
    """Removes finished files no job can use; returns "name: reason" for each."""
    dropped = []
    for entry in finished_files(folder):
        path = folder / str(entry["name"])
        reason = problem_with(path)
        if reason:
            path.unlink()
            dropped.append(f"{entry['name']}: {reason}")
    return dropped


def entries(folder: Path) -> list[Path]:
    """The draft's top-level files and folders, ready to become a job's upload."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
