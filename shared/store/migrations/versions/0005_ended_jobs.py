"""Jobs whose results are gone: the store remembers that a job expired or was cancelled after its
rows are removed, so its pages answer 410 from the database and not from Redis.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_jobs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("why", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ended_jobs"),
    )


def downgrade() -> None:
    op.drop_table("ended_jobs")
