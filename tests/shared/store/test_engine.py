"""Which database the settings name, and the SQLite connection's pragmas."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from shared.settings import Settings
from shared.store import open_configured_store
from shared.store.engine import database_url


def test_the_default_is_an_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"TRAPLINE_DATA_DIR": str(tmp_path / "var"), "TRAPLINE_STORE_BATCH_IMAGES": "40"}
    )
    assert database_url(settings) == f"sqlite:///{tmp_path / 'var' / 'trapline.db'}"
    assert settings.store_batch_images == 40
    engine = open_configured_store(settings)
    with engine.connect() as conn:
        pragmas = {
            name: conn.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}
    assert (tmp_path / "var" / "trapline.db").is_file()


def test_a_postgresql_url_means_psycopg_3() -> None:
    for given in ("postgresql://u:p@db.example.org/trapline", "postgres://u:p@db/trapline"):
        url = database_url(Settings.from_env({"TRAPLINE_DATABASE_URL": given}))
        assert url.startswith("postgresql+psycopg://u:p@")
    explicit = "postgresql+psycopg://u@h/d"
    assert database_url(Settings(database_url=explicit)) == explicit
