"""Each project media row names its deployment period, so a project's gallery filters by
period or location with one indexed condition; a period says whether its media are linked
(periods made before this migration are linked the next time the project's periods are read).

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("period_id", BigId))
        batch.create_index("ix_media_period", ["period_id", "ordinal"])
    with op.batch_alter_table("deployment_periods") as batch:
        batch.add_column(
            sa.Column("linked", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("deployment_periods") as batch:
        batch.drop_column("linked")
    with op.batch_alter_table("media") as batch:
        batch.drop_index("ix_media_period")
        batch.drop_column("period_id")
