"""A location's operation gaps a person recorded: spans its camera was not working, which the
survey's effort (trap nights) leaves out; and each photo's colourfulness and brightness, which
the camera clock check reads (an infrared night frame is grey).

Revision ID: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operation_gaps",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("project_id", BigId, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("start", sa.DateTime(timezone=False), nullable=False),
        sa.Column("end", sa.DateTime(timezone=False), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.Text(), server_default="", nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_operation_gaps_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name="fk_operation_gaps_location_id_locations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operation_gaps"),
    )
    op.create_index("ix_operation_gaps_location", "operation_gaps", ["location_id"])
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("chroma", sa.Double()))
        batch.add_column(sa.Column("brightness", sa.Double()))


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_column("brightness")
        batch.drop_column("chroma")
    op.drop_index("ix_operation_gaps_location", table_name="operation_gaps")
    op.drop_table("operation_gaps")
