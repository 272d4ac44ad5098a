"""A reviewer's species and count for a whole event, kept per event (by its first file) with
the bulk review that tagged its files.

Revision ID: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_tags",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("first_path", sa.Text(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("species", sa.Text()),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("user_id", BigId),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch", sa.String(32), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_event_tags_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_tags"),
    )
    op.create_index("ix_event_tags_job", "event_tags", ["job_id", "first_path"])
    op.create_index("ix_event_tags_batch", "event_tags", ["batch"])


def downgrade() -> None:
    op.drop_table("event_tags")
