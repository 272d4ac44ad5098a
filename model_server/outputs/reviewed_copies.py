"""Annotated copies for an export after review. A copy whose boxes a reviewer changed is drawn
again, with the boxes they kept, on the job's clean web rendition (the full-size upload is
deleted when the job finishes); every other copy comes unchanged from the previous zip."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path, PurePosixPath

from PIL import Image

from model_server.detectors.base import Category
from model_server.outputs.drawing import draw_boxes, encode
from model_server.outputs.export import CopySource, clip_name, clip_of, copy_name
from model_server.outputs.result_zip import Source
from model_server.outputs.sorted_copies import in_previous
from shared.categories import CATEGORY_LABELS
from shared.store.records import MediaRecord

REDRAWN = ("changed", "rejected")


def reviewed_copy(record: MediaRecord, view: Path, quality: int) -> bytes:
    """The web rendition with the boxes a person kept, labelled "checked", in the format the
    file's name says."""
    with Image.open(view) as opened:
        image = opened.convert("RGB")
    boxes = []
    best = (record.video or {}).get("best_frame")
    # a video's rendition is its best frame: the boxes seen in it, and those a person drew on it
    for d in (k for k in record.kept() if k.get("frame") in (None, best)):
        category = Category(d["verified_category"] or d["category"])
        name = d.get("species") or CATEGORY_LABELS[category.value]
        boxes.append((tuple(d["bbox"]), category, f"{name} (checked)"))
    draw_boxes(image, boxes)
    suffix = ".jpg" if record.kind == "video" else PurePosixPath(record.file).suffix
    return encode(image, suffix, b"", quality)


def export_copies(previous: zipfile.ZipFile, views: Path, quality: int) -> CopySource:
    names = set(previous.namelist())

    def source(record: MediaRecord) -> list[tuple[str, Source]]:
        found: list[tuple[str, Source]] = []
        name = copy_name(record)
        if record.review in REDRAWN and record.view and (views / record.view).is_file():
            found.append(
                (name, lambda: io.BytesIO(reviewed_copy(record, views / record.view, quality)))
            )
        elif record.annotated and (member := in_previous(names, name)):
            found.append((name, functools.partial(previous.open, member)))
        if clip_of(record) and (member := in_previous(names, clip_name(record))):
            found.append((clip_name(record), functools.partial(previous.open, member)))
        return found

    return source
