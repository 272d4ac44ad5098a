"""Each reviewed media row keeps what its reviewer counted beside the machine's counts, so every
figure (summaries, charts, events) can count the review where there is one with one indexed
pass; filled in from the boxes reviewers kept.

Revision ID: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COUNTS = {"1": "verified_animals", "2": "verified_persons", "3": "verified_vehicles"}
MACHINE = ["animals", "persons", "vehicles"]
FOLDER_INDEX = "ix_media_job_folder"


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        for column in COUNTS.values():
            batch.add_column(sa.Column(column, sa.Integer()))
        batch.drop_index(FOLDER_INDEX)
        batch.create_index(
            FOLDER_INDEX,
            ["job_id", "folder", "outcome", "verified_outcome", *MACHINE, *COUNTS.values()],
        )
    media = sa.table(
        "media", sa.column("id"), sa.column("review"), *(sa.column(c) for c in COUNTS.values())
    )
    boxes = sa.table(
        "detections",
        sa.column("media_id"),
        sa.column("frame"),
        sa.column("verdict"),
        sa.column("verified_category"),
    )

    def most_in_a_frame(value: str) -> sa.ColumnElement[int]:
        found = (
            sa.select(sa.func.count())
            .where(
                boxes.c.media_id == media.c.id,
                boxes.c.verdict.in_(("accepted", "changed", "added")),
                boxes.c.verified_category == value,
            )
            .group_by(boxes.c.frame)
            .order_by(sa.func.count().desc())
            .limit(1)
            .scalar_subquery()
        )
        return sa.func.coalesce(found, 0)

    op.execute(
        media.update()
        .where(media.c.review != "")
        .values(**{column: most_in_a_frame(value) for value, column in COUNTS.items()})
    )


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_index(FOLDER_INDEX)
        batch.create_index(FOLDER_INDEX, ["job_id", "folder", "outcome", *MACHINE])
        for column in COUNTS.values():
            batch.drop_column(column)
