"""A class set may belong to a project (its members see, use and teach it); a set without one is
shared site-wide, as every set made before this migration stays.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("class_sets") as batch:
        batch.add_column(sa.Column("project_id", BigId))
        batch.create_foreign_key(
            "fk_class_sets_project_id_projects",
            "projects",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_class_sets_project", ["project_id"])


def downgrade() -> None:
    with op.batch_alter_table("class_sets") as batch:
        batch.drop_index("ix_class_sets_project")
        batch.drop_constraint("fk_class_sets_project_id_projects", type_="foreignkey")
        batch.drop_column("project_id")
