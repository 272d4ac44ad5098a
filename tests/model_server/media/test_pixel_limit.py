"""The photo size limit is the setting's, not Pillow's (issue 33, item 16): Pillow warns about
decompression bombs from 89.5 megapixels, which refused 95 and 118.8 megapixel photos although
the limit is 120 by default. Headers only: no pixel is decoded."""

from __future__ import annotations

import pytest

from model_server.media.imaging import open_checked
from shared.errors import ImageError
from shared.settings import Settings
from tests.images import png_bomb_header

LIMIT = Settings().max_image_pixels


@pytest.mark.parametrize("size", [(10_000, 9_500), (12_000, 9_900)])  # 95.0 and 118.8 MP
def test_photos_under_the_setting_open(size: tuple[int, int]) -> None:
    with open_checked(png_bomb_header(*size), LIMIT) as image:
        assert image.size == size


def test_a_photo_over_the_setting_is_refused_by_it() -> None:
    with pytest.raises(ImageError, match="over the safety limit of 120 megapixels"):
        open_checked(png_bomb_header(11_000, 11_000), LIMIT)  # 121 MP


def test_a_lower_setting_is_the_limit() -> None:
    with pytest.raises(ImageError, match="over the safety limit of 50 megapixels"):
        open_checked(png_bomb_header(10_000, 9_500), 50_000_000)
