"""A class taught from example photos: the detector runs on each photo, the largest confident
animal box is cropped and embedded, and the photos it found no animal in are listed back. One
zip per class (`species` given), or one folder per class inside the zip (the photo's folder names
its class)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model_server.detectors.base import Category, Detection, Detector
from model_server.media.imaging import open_checked, pixels_of, upright_rgb
from model_server.species.crops import ExampleBatcher, crop_box
from model_server.species.embedder import Embedder
from shared.errors import ImageError, InputError
from shared.inputs import InputItem, collect_inputs, is_image_name
from shared.store.class_sets import ClassSetError, Example, check_species

log = logging.getLogger(__name__)


@dataclass
class Learned:
    examples: list[Example] = field(default_factory=list)
    # photos that taught nothing, each with why: no animal box, unreadable, no class folder
    without_animal: list[str] = field(default_factory=list)


def largest_animal(found: list[Detection], threshold: float) -> Detection | None:
    animals = [d for d in found if d.category is Category.ANIMAL and d.conf >= threshold]
    return max(animals, key=lambda d: d.bbox[2] * d.bbox[3], default=None)


def class_of(item: InputItem, species: str | None) -> str:
    """The class a photo teaches: the one named for the upload, else its folder's name."""
    if species:
        return species
    parts = item.rel_path.split("/")
    if len(parts) < 2:
        raise ClassSetError(
            "not in a class folder (put each class's photos in a folder named "
            "for it, or name the class for the whole zip)"
        )
    return check_species(parts[-2])


def learn_from_zip(
    zip_path: Path,
    species: str | None,
    detector: Detector,
    embedder: Embedder,
    crop_dir: Path,
    *,
    max_file_bytes: int,
    max_pixels: int,
    should_stop: Callable[[], bool] = lambda: False,
) -> Learned:
    """The examples the zip's photos give (crops written to `crop_dir`); nothing is stored."""
    inventory = collect_inputs([zip_path], max_file_bytes=max_file_bytes)
    learned = Learned(without_animal=[f"{name}: not a photo" for name in inventory.skipped])
    threshold = detector.info.typical_threshold
    batcher = ExampleBatcher(embedder, crop_dir)

    for item in inventory.items:
        if should_stop():
            raise InputError("stopped before every example was read")
        if not is_image_name(item.rel_path):
            learned.without_animal.append(f"{item.rel_path}: a video (examples are photos)")
            continue
        try:
            name = class_of(item, species)
            image, _ = upright_rgb(open_checked(item.read(max_file_bytes), max_pixels))
        except (ClassSetError, ImageError, InputError) as exc:
            learned.without_animal.append(f"{item.rel_path}: {exc}")
            continue
        box = largest_animal(detector.detect(pixels_of(image), item.rel_path), threshold)
        crop = crop_box(image, box.bbox) if box is not None else None
        if crop is None:
            learned.without_animal.append(
                f"{item.rel_path}: no animal found at confidence {threshold:g} or more"
            )
            continue
        batcher.add(name, item.rel_path, crop)
    learned.examples = batcher.flush()
    log.info(
        "examples from %s: %d crops, %d photos without one",
        zip_path.name,
        len(learned.examples),
        len(learned.without_animal),
    )
    return learned
