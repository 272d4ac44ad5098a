"""Where a box's picture comes from: the uploaded photo while the detect job runs, the web
rendition the store keeps once it has finished (the upload is gone by then; a reports-only job
kept none). A video's picture is always its best frame's rendition."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from model_server.media.imaging import open_checked, upright_rgb
from model_server.species.classify import ImageSource
from shared.errors import ImageError, InputError
from shared.inputs import Inventory
from shared.store.records import MediaRecord


def upload_pictures(
    inventory: Inventory, max_file_bytes: int, max_pixels: int, thumbnail_dir: Path
) -> ImageSource:
    items = {item.rel_path: item for item in inventory.items}
    video_frames = rendition_pictures(thumbnail_dir)

    def open_image(record: MediaRecord) -> Image.Image | None:
        if record.kind == "video":
            return video_frames(record)
        item = items.get(record.file)
        if item is None:
            return None
        try:
            return upright_rgb(open_checked(item.read(max_file_bytes), max_pixels))[0]
        except (ImageError, InputError):
            return None

    return open_image


def rendition_pictures(thumbnail_dir: Path) -> ImageSource:
    def open_image(record: MediaRecord) -> Image.Image | None:
        if not record.view:
            return None
        try:
            with Image.open(thumbnail_dir / record.view) as image:
                return image.convert("RGB")
        except OSError:
            return None

    return open_image
