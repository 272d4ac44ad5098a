"""A location's rules learnt from rejected repeats, the boxes of later cards a rule suppressed
(the machine's box stays, naming the rule), and how unlike its repeat group's typical crop a
box looks.

Revision ID: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "repeat_rules",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("project_id", BigId, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("category", sa.String(8), nullable=False),
        sa.Column("x", sa.Double(), nullable=False),
        sa.Column("y", sa.Double(), nullable=False),
        sa.Column("w", sa.Double(), nullable=False),
        sa.Column("h", sa.Double(), nullable=False),
        sa.Column("iou", sa.Double(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("switched_off_by", sa.Text(), nullable=False),
        sa.Column("switched_off_at", sa.DateTime(timezone=True)),
        sa.Column("appearance", sa.JSON()),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_repeat_rules_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name="fk_repeat_rules_location_id_locations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_repeat_rules"),
    )
    op.create_index("ix_repeat_rules_location", "repeat_rules", ["location_id"])
    op.create_table(
        "repeat_looks",
        sa.Column("leader_id", BigId, nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("look", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["leader_id"],
            ["detections.id"],
            name="fk_repeat_looks_leader_id_detections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("leader_id", name="pk_repeat_looks"),
    )
    with op.batch_alter_table("detections") as batch:
        batch.add_column(sa.Column("suppressed_by", BigId))
        batch.add_column(sa.Column("appearance", sa.Double()))
    op.create_index("ix_detections_suppressed_by", "detections", ["suppressed_by"])


def downgrade() -> None:
    op.drop_index("ix_detections_suppressed_by", table_name="detections")
    with op.batch_alter_table("detections") as batch:
        batch.drop_column("appearance")
        batch.drop_column("suppressed_by")
    op.drop_table("repeat_looks")
    op.drop_index("ix_repeat_rules_location", table_name="repeat_rules")
    op.drop_table("repeat_rules")
