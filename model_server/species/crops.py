"""Animal crops: the box cut from the picture it was found in, and the small copy the class
page shows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from model_server.species.embedder import Embedder
from shared.store.class_sets import Example

CROP_THUMBNAIL = 160  # long side of the class page's crops, in pixels
MIN_SIDE = 8  # a box this small in pixels says nothing about its species


def crop_box(image: Image.Image, bbox: Sequence[float], margin: float = 0.0) -> Image.Image | None:
    """The normalised box `[x, y, w, h]` cut from `image`, widened by `margin` of its width and
    height on each side (within the picture); None when it is under 8 pixels on a side
    (nothing to learn from or classify)."""
    width, height = image.size
    x, y, w, h = bbox
    x, y, w, h = x - margin * w, y - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin)
    left, top = max(0, round(x * width)), max(0, round(y * height))
    right, bottom = min(width, round((x + w) * width)), min(height, round((y + h) * height))
    if right - left < MIN_SIDE or bottom - top < MIN_SIDE:
        return None
    return image.crop((left, top, right, bottom))


@dataclass
class ExampleBatcher:
    """Crops on their way to becoming examples: embedded a batch at a time (few crops in memory
    however many photos), each saved as the class page's small copy under `crop_dir`."""

    embedder: Embedder
    crop_dir: Path
    batch: int = 32
    examples: list[Example] = field(default_factory=list)
    _pending: list[tuple[str, str, Image.Image, int | None]] = field(default_factory=list)

    def add(
        self, species: str, source: str, crop: Image.Image, detection_id: int | None = None
    ) -> None:
        self._pending.append((species, source, crop, detection_id))
        if len(self._pending) >= self.batch:
            self.flush()

    def flush(self) -> list[Example]:
        if self._pending:
            vectors = self.embedder.embed([crop for _, _, crop, _ in self._pending])
            for (species, source, crop, det), vector in zip(self._pending, vectors, strict=True):
                file = f"{secrets.token_hex(8)}.jpg"
                save_crop(crop, self.crop_dir / file)
                self.examples.append(Example(species, vector, file, source, det))
            self._pending.clear()
        return self.examples


def save_crop(crop: Image.Image, path: Path, quality: int = 85) -> None:
    small = crop.copy()
    small.thumbnail((CROP_THUMBNAIL, CROP_THUMBNAIL), Image.Resampling.BILINEAR)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    small.convert("RGB").save(part, "JPEG", quality=quality)
    part.replace(path)
