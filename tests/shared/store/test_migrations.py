"""Migrations: the schema they build is the one the code declares, applying them again changes
nothing, and two processes migrating one database at once both succeed."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from shared.store import open_store
from shared.store.migrate import current_revision, head_revision, migrate
from shared.store.schema import metadata
from tests.conftest import REPO


def test_migrations_build_exactly_the_declared_schema(store) -> None:
    with store.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    assert set(inspect(store).get_table_names()) >= {"jobs", "media", "detections", "reviews"}
    indexes = {ix["name"] for ix in inspect(store).get_indexes("media")}
    assert {
        "ix_media_job_outcome",
        "ix_media_job_folder",
        "ix_media_job_max_conf",
        "ix_media_job_captured",
    } <= indexes


def test_a_second_migration_is_a_no_op(store) -> None:
    before = {t: inspect(store).get_columns(t) for t in metadata.tables}
    assert current_revision(store) == head_revision() == migrate(store)
    assert migrate(store) == head_revision()
    after = {t: inspect(store).get_columns(t) for t in metadata.tables}
    assert repr(before) == repr(after)


def test_two_processes_migrating_at_once_both_succeed(database_url: str) -> None:
    """What happens when the web app and a model server start together on an empty database."""
    script = (
        "import sys; from shared.store import open_store; "
        "print(open_store(sys.argv[1]).url.database, flush=True)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, database_url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    results = [(p.returncode, err) for p, (_, err) in zip(procs, outputs, strict=True)]
    assert all(code == 0 for code, _ in results), results
    engine = open_store(database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
