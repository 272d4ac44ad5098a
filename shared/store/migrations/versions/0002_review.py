"""Review in the browser: what a person said about each box and image, what undo needs, the
web-sized rendition's name and the "most uncertain first" order.

Existing media get their doubt computed here at their job's threshold, so a job finished before
this migration can be reviewed uncertain-first too.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MEDIA = (
    sa.Column("view", sa.Text, nullable=False, server_default=""),
    sa.Column("doubt", sa.Double),
    sa.Column("review", sa.String(16), nullable=False, server_default=""),
    sa.Column("verified_outcome", sa.String(32)),
    sa.Column("reviewer", sa.Text, nullable=False, server_default=""),
    sa.Column("reviewed_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
)
DETECTIONS = (
    sa.Column("verdict", sa.String(16)),
    sa.Column("verified_category", sa.String(8)),
    sa.Column("species", sa.Text),
    sa.Column("reviewer", sa.Text, nullable=False, server_default=""),
)
REVIEWS = (
    sa.Column("detail", sa.JSON),
    sa.Column("before", sa.JSON),
    sa.Column("version", sa.Integer),
    sa.Column("batch", sa.String(32)),
    sa.Column("undone_at", sa.DateTime(timezone=True)),
)

# The detection nearest the job's threshold; an image without any is as far as a zero would be.
BACKFILL_DOUBT = """
UPDATE media SET doubt = COALESCE(
    (SELECT MIN(ABS(d.confidence - j.threshold)) FROM detections d, jobs j
     WHERE d.media_id = media.id AND j.id = media.job_id),
    (SELECT j.threshold FROM jobs j WHERE j.id = media.job_id))
WHERE failure IS NULL
"""


def upgrade() -> None:
    for table, columns in (("media", MEDIA), ("detections", DETECTIONS), ("reviews", REVIEWS)):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(column)
    op.create_index("ix_media_job_doubt", "media", ["job_id", "doubt", "ordinal"])
    op.create_index("ix_media_job_review", "media", ["job_id", "review", "doubt", "ordinal"])
    op.create_index("ix_reviews_batch", "reviews", ["batch"])
    op.execute(BACKFILL_DOUBT)


def downgrade() -> None:
    op.drop_index("ix_reviews_batch", "reviews")
    op.drop_index("ix_media_job_review", "media")
    op.drop_index("ix_media_job_doubt", "media")
    for table, columns in (("media", MEDIA), ("detections", DETECTIONS), ("reviews", REVIEWS)):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column.name)
