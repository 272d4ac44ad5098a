"""Cutting an animal's box out of its picture."""

from __future__ import annotations

from PIL import Image

from model_server.species.crops import crop_box


def size(picture: Image.Image, bbox: list[float], margin: float = 0.0) -> tuple[int, int]:
    crop = crop_box(picture, bbox, margin)
    assert crop is not None
    return crop.size


def test_a_crop_with_a_margin_stays_inside_the_picture() -> None:
    picture = Image.new("RGB", (200, 100))
    assert size(picture, [0.25, 0.2, 0.5, 0.5]) == (100, 50)
    # 10 % of the box's size on each side
    assert size(picture, [0.25, 0.2, 0.5, 0.5], 0.1) == (120, 60)
    # at the picture's edge the margin is cut off there
    assert size(picture, [0.0, 0.0, 0.5, 0.5], 0.25) == (125, 62)
    assert crop_box(picture, [0.5, 0.5, 0.02, 0.02], 0.1) is None  # 4 x 2 pixels: too small
