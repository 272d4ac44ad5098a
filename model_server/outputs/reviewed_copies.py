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
from model_server.outputs.export import CopySource
from model_server.outputs.result_zip import Source
from shared.store.records import CATEGORY_LABELS, MediaRecord

REDRAWN = ("changed", "rejected")


def reviewed_copy(record: MediaRecord, view: Path, quality: int) -> bytes:
    """The web rendition with the boxes a person kept, labelled "checked", in the format the
    file's name says."""
    with Image.open(view) as opened:
        image = opened.convert("RGB")
    boxes = []
    for d in record.kept():
        category = Category(d["verified_category"] or d["category"])
        name = d.get("species") or CATEGORY_LABELS[category.value]
        boxes.append((tuple(d["bbox"]), category, f"{name} (checked)"))
    draw_boxes(image, boxes)
    return encode(image, PurePosixPath(record.file).suffix, b"", quality)


def export_copies(previous: zipfile.ZipFile, views: Path, quality: int) -> CopySource:
    names = set(previous.namelist())

    def source(record: MediaRecord) -> Source | None:
        if record.review in REDRAWN and record.view and (views / record.view).is_file():
            return lambda: io.BytesIO(reviewed_copy(record, views / record.view, quality))
        if not record.annotated or record.file not in names:
            return None
        return functools.partial(previous.open, record.file)

    return source
