"""Clock corrections a person made to a deployment period (a camera whose clock was set 12 hours
off), applied by every survey-level reader while the camera's own times stay stored; and each
photo's layout, a small grey thumbnail the view check compares.

Revision ID: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "clock_corrections",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("period_id", BigId, nullable=False),
        sa.Column("shift_seconds", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_by", sa.Text(), server_default="", nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["deployment_periods.id"],
            name="fk_clock_corrections_period_id_deployment_periods",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clock_corrections"),
    )
    op.create_index("ix_clock_corrections_period", "clock_corrections", ["period_id"])
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("layout", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_column("layout")
    op.drop_index("ix_clock_corrections_period", table_name="clock_corrections")
    op.drop_table("clock_corrections")
