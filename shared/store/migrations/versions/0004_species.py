"""Species from examples: class sets, their examples (embedding and crop) and uploads, and the
class set's suggestion on each detection.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("detections") as batch:
        batch.add_column(sa.Column("suggested_species", sa.Text))
        batch.add_column(sa.Column("species_distance", sa.Double))
        batch.add_column(sa.Column("species_runner_up", sa.Text))
        batch.add_column(sa.Column("species_margin", sa.Double))
    op.create_table(
        "class_sets",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("embedder", sa.Text, nullable=False),
        sa.Column("overrides", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_class_sets"),
        sa.UniqueConstraint("name", name="uq_class_sets_name"),
    )
    op.create_table(
        "class_examples",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("set_id", BigId, nullable=False),
        sa.Column("species", sa.String(200), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("crop", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("detection_id", BigId),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_class_examples"),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["class_sets.id"],
            ondelete="CASCADE",
            name="fk_class_examples_set_id_class_sets",
        ),
    )
    op.create_index("ix_class_examples_set", "class_examples", ["set_id", "species"])
    op.create_table(
        "class_uploads",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("set_id", BigId, nullable=False),
        sa.Column("species", sa.String(200)),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("without_animal", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_class_uploads"),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["class_sets.id"],
            ondelete="CASCADE",
            name="fk_class_uploads_set_id_class_sets",
        ),
    )
    op.create_index("ix_class_uploads_set", "class_uploads", ["set_id"])


def downgrade() -> None:
    op.drop_table("class_uploads")
    op.drop_table("class_examples")
    op.drop_table("class_sets")
    with op.batch_alter_table("detections") as batch:
        for name in (
            "species_margin",
            "species_runner_up",
            "species_distance",
            "suggested_species",
        ):
            batch.drop_column(name)
