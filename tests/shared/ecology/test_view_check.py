"""The view check on real photos' layouts: one camera's view in sun and in shade is one view, a
lasting change to another real camera's view is found on the day it happened, and one odd frame
(or too few frames after a change) says nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PIL import Image, ImageEnhance

from model_server.media.look import image_look
from shared.ecology.view_check import ViewFrame, layout_vector, view_changes
from tests.conftest import DATA

PHOTOS = DATA / "camera-trap"
BEFORE = PHOTOS / "megadetector" / "idaho-camera-traps.jpg"
AFTER = PHOTOS / "animl-southwest" / "testdataowl.JPG"
LIGHT = (0.7, 1.0, 1.25, 0.85, 1.1, 0.95, 1.2, 0.8)  # the sun coming and going


def layout(path, light: float):
    with Image.open(path) as image:
        lit = ImageEnhance.Brightness(image.convert("RGB")).enhance(light)
    vector = layout_vector(str(image_look(lit)["layout"]))
    assert vector is not None
    return vector


def frames(paths: list) -> list[ViewFrame]:
    start = datetime(2026, 6, 1, 12)
    return [
        ViewFrame("card", f"A/{i:02d}.jpg", start + timedelta(days=i), layout(p, LIGHT[i % 8]))
        for i, p in enumerate(paths)
    ]


def test_one_view_in_changing_light_is_one_view() -> None:
    assert float(layout(BEFORE, 0.7) @ layout(BEFORE, 1.25)) > 0.95
    assert view_changes(frames([BEFORE] * 12)) == []


def test_a_lasting_change_is_found_on_its_day() -> None:
    (change,) = view_changes(frames([BEFORE] * 6 + [AFTER] * 6))
    assert change.first.path == "A/06.jpg" and change.last_before.path == "A/05.jpg"
    assert change.frames_after == 6 and change.similarity < 0.5 and change.steadiness > 0.9
    assert change.text.startswith("the view changed on 2026-06-07 (camera moved or knocked over?)")


@pytest.mark.parametrize(
    "paths",
    [
        [BEFORE] * 6 + [AFTER] + [BEFORE] * 5,  # one odd frame: a bird on the lens, not a move
        [BEFORE] * 9 + [AFTER] * 3,  # three frames after: not yet lasting
    ],
)
def test_one_odd_frame_or_a_short_run_says_nothing(paths: list) -> None:
    assert view_changes(frames(paths)) == []
