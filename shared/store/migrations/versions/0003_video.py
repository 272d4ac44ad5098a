"""Videos: what the store keeps about a video beside its detections (codec, frame rate,
duration, the frames checked and their times, the frame of its best detection, the annotated
clip). Photos leave it empty; detections already carry their frame number.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("video", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_column("video")
