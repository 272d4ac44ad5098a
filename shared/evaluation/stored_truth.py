"""A truth file too large to compare in a web request, compared by a model server instead: the
web stores the files and what was asked in a folder of its own under the job's truth folder,
queues an EVALUATE follow-up naming that folder, and the model server writes the report beside
it and removes the files. The job's Accuracy page and `/api/jobs/<id>/evaluation/truth` read
the report back."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.inputs import plain_name

REQUEST = "request.json"
REPORT = "report.json"


@dataclass(frozen=True)
class TruthRequest:
    """What a stored evaluation was asked: the uploaded names, in order, and the options
    (threshold, recall, recall_label)."""

    folder: Path
    names: list[str]
    options: dict[str, Any]
    asked_at: float

    @property
    def paths(self) -> list[Path]:
        return [self.folder / str(i) / plain_name(n) for i, n in enumerate(self.names)]


def store_request(
    job_folder: Path,
    files: Iterable[tuple[str, Callable[[Path], None]]],
    options: dict[str, Any],
    now: float | None = None,
) -> str:
    """Saves each (name, save-to-path) in a fresh folder under `job_folder`; returns the
    folder's name, which the follow-up is queued with."""
    token = secrets.token_hex(8)
    folder = job_folder / token
    names = []
    for i, (name, save) in enumerate(files):
        target = folder / str(i) / plain_name(name)
        target.parent.mkdir(parents=True)
        save(target)
        names.append(name)
    asked = {"names": names, "options": options, "asked_at": now or time.time()}
    (folder / REQUEST).write_text(json.dumps(asked))
    return token


def load_request(job_folder: Path, token: str) -> TruthRequest | None:
    """The stored request, or None when its folder is gone (or the token is not one of ours)."""
    if not token or not token.isalnum():
        return None
    folder = job_folder / token
    try:
        asked = json.loads((folder / REQUEST).read_text())
    except (OSError, ValueError):
        return None
    return TruthRequest(folder, list(asked["names"]), dict(asked["options"]), asked["asked_at"])


def write_report(job_folder: Path, request: TruthRequest, report: dict[str, Any]) -> None:
    """The report replaces the job's previous one in one rename; the truth files go."""
    report = {**report, "asked_at": request.asked_at, "options": request.options}
    partial = job_folder / f".{REPORT}.partial"
    partial.write_text(json.dumps(report))
    os.replace(partial, job_folder / REPORT)
    discard(request.folder)


def read_report(job_folder: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((job_folder / REPORT).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
