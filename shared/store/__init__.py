"""The results database both processes share: SQLAlchemy Core tables (`schema`), Alembic
migrations (`migrate`), the model server's writes (`writes`), reading a job back (`reads`) and
the site's queries (`queries`). `open_store` is the one way in."""

from __future__ import annotations

from sqlalchemy import Engine

from shared.settings import Settings
from shared.store.engine import database_url, make_engine
from shared.store.migrate import migrate


def open_store(url: str) -> Engine:
    """An engine on the database at `url`, migrated to the newest schema."""
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()  # no pooled connection survives into a forked web worker
    return engine


def open_configured_store(settings: Settings) -> Engine:
    """The site's database: `TRAPLINE_DATABASE_URL`, or `trapline.db` in the data folder."""
    return open_store(database_url(settings))
