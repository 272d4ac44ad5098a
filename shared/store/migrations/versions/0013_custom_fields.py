"""The values of a project's own fields (sex, age class, behaviour...) a reviewer set on a box
or on a whole event.

Revision ID: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("detections") as batch:
        batch.add_column(sa.Column("fields", sa.JSON()))
    with op.batch_alter_table("event_tags") as batch:
        batch.add_column(sa.Column("fields", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("event_tags") as batch:
        batch.drop_column("fields")
    with op.batch_alter_table("detections") as batch:
        batch.drop_column("fields")
