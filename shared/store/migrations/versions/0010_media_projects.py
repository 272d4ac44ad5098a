"""Each media row names its upload's project, with the indexes a project's gallery walks in
order (upload order, most uncertain first, what is not reviewed yet), filled in from the
uploads' projects.

Revision ID: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEXES = {
    "ix_media_project_ordinal": ["project_id", "ordinal", "id"],
    "ix_media_project_doubt": ["project_id", "doubt", "ordinal", "id"],
    "ix_media_project_review": ["project_id", "review", "doubt", "ordinal", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("project_id", BigId))
    media = sa.table("media", sa.column("job_id"), sa.column("project_id"))
    project_jobs = sa.table("project_jobs", sa.column("job_id"), sa.column("project_id"))
    op.execute(
        media.update().values(
            project_id=sa.select(project_jobs.c.project_id)
            .where(project_jobs.c.job_id == media.c.job_id)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("media") as batch:
        for name, columns in INDEXES.items():
            batch.create_index(name, columns)


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        for name in INDEXES:
            batch.drop_index(name)
        batch.drop_column("project_id")
