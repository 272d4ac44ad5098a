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


def test_defaults_are_declared_once_on_the_fields() -> None:
    """Reading an empty environment gives exactly the class's defaults, field for field, and
    every field but the secret key is read from its own variable."""
    from shared.settings import PARSERS

    assert Settings.from_env({}) == Settings()
    assert set(PARSERS) | {"secret_key"} == set(Settings.__dataclass_fields__)


def test_the_repr_never_shows_a_secret() -> None:
    settings = Settings.from_env(
        {
            "TRAPLINE_API_KEY": "key-k3y-KEY",
            "TRAPLINE_SMTP_PASSWORD": "smtp-s3cret",
            "TRAPLINE_SECRET_KEY": "session-s3cret",
            "TRAPLINE_DATABASE_URL": "postgresql://trapline:db-s3cret@db.example.org/trapline",
        }
    )
    shown = repr(settings)
    for secret in ("key-k3y-KEY", "smtp-s3cret", "session-s3cret", "db-s3cret"):
        assert secret not in shown
    assert "api_key=<set>" in shown and "admin_password_hash=<unset>" in shown
    assert "db.example.org/trapline" in shown  # the rest of the database address stays
