from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import SettingsError
from shared.settings import DEV_SECRET_KEY, Settings


def test_defaults_are_for_development() -> None:
    settings = Settings.from_env({})
    assert settings.secret_key == DEV_SECRET_KEY and not settings.production
    assert settings.model_path is None and settings.detection_threshold is None


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "TRAPLINE_DATA_DIR": "/srv/trapline",
            "TRAPLINE_MODEL_PATH": "/m/md_v4.1.0.pb",
            "TRAPLINE_DETECTION_THRESHOLD": "0.3",
            "TRAPLINE_MAX_IMAGE_PIXELS": "1000",
            "TRAPLINE_VIDEO_FRAME_INTERVAL": "2.5",
            "TRAPLINE_VIDEO_MAX_FRAMES": "120",
        }
    )
    assert settings.data_dir == Path("/srv/trapline")
    assert settings.model_path == Path("/m/md_v4.1.0.pb")
    assert settings.detection_threshold == 0.3 and settings.max_image_pixels == 1000
    assert (settings.video_frame_interval, settings.video_max_frames) == (2.5, 120)
    assert (Settings.from_env({}).video_frame_interval, Settings.from_env({}).video_max_frames) == (
        1.0,
        600,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRAPLINE_DETECTION_THRESHOLD", "high"),
        ("TRAPLINE_DETECTION_THRESHOLD", "1.5"),
        ("TRAPLINE_MAX_IMAGE_PIXELS", "-3"),
        ("TRAPLINE_PRODUCTION", "maybe"),
        ("TRAPLINE_VIDEO_FRAME_INTERVAL", "0"),
        ("TRAPLINE_VIDEO_FRAME_INTERVAL", "fast"),
        ("TRAPLINE_VIDEO_MAX_FRAMES", "1"),
    ],
)
def test_junk_fails_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_production_needs_a_secret() -> None:
    with pytest.raises(SettingsError, match="TRAPLINE_SECRET_KEY"):
        Settings.from_env({"TRAPLINE_PRODUCTION": "true"})
    assert (
        Settings.from_env(
            {
                "TRAPLINE_PRODUCTION": "1",
                "TRAPLINE_SECRET_KEY": "s3",
                "TRAPLINE_PUBLIC_URL": "https://t.example.org",
            }
        ).secret_key
        == "s3"
    )
