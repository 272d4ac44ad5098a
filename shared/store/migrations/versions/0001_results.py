"""The first results schema: jobs, media, detections, reviews.

A migration is frozen once released: later changes to `schema.py` come with a new file here,
never an edit to this one.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_meta", sa.JSON, nullable=False),
        sa.Column("threshold", sa.Double, nullable=False),
        sa.Column("render_threshold", sa.Double, nullable=False),
        sa.Column("min_confidence", sa.Double, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("images", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("skipped", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )


def _media() -> None:
    op.create_table(
        "media",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("animals", sa.Integer, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("vehicles", sa.Integer, nullable=False),
        sa.Column("max_conf", sa.Double),
        sa.Column("captured", sa.DateTime(timezone=False)),
        sa.Column("captured_from", sa.String(40), nullable=False),
        sa.Column("make", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("serial", sa.Text, nullable=False),
        sa.Column("latitude", sa.Double),
        sa.Column("longitude", sa.Double),
        sa.Column("altitude", sa.Double),
        sa.Column("altitude_ref", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("failure", sa.Text),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("annotated", sa.Text, nullable=False),
        sa.Column("thumbnail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_media"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], ondelete="CASCADE", name="fk_media_job_id_jobs"
        ),
        sa.UniqueConstraint("job_id", "path", name="uq_media_job_path"),
    )
    for name, columns in (
        ("ordinal", ["job_id", "ordinal"]),
        ("outcome", ["job_id", "outcome"]),
        ("folder", ["job_id", "folder", "outcome", "animals", "persons", "vehicles"]),
        ("max_conf", ["job_id", "max_conf"]),
        ("captured", ["job_id", "captured", "ordinal"]),
    ):
        op.create_index(f"ix_media_job_{name}", "media", columns)


def _detections_and_reviews() -> None:
    op.create_table(
        "detections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("media_id", BigId, nullable=False),
        sa.Column("category", sa.String(8), nullable=False),
        sa.Column("confidence", sa.Double, nullable=False),
        *(sa.Column(c, sa.Double, nullable=False) for c in ("x", "y", "w", "h")),
        sa.Column("frame", sa.Integer),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_detections"),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], ondelete="CASCADE", name="fk_detections_media_id_media"
        ),
    )
    op.create_index("ix_detections_media", "detections", ["media_id"])
    op.create_table(
        "reviews",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("media_id", BigId),
        sa.Column("detection_id", BigId),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("new_category", sa.String(8)),
        sa.Column("species", sa.Text),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], ondelete="CASCADE", name="fk_reviews_job_id_jobs"
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], ondelete="CASCADE", name="fk_reviews_media_id_media"
        ),
        sa.ForeignKeyConstraint(
            ["detection_id"],
            ["detections.id"],
            ondelete="CASCADE",
            name="fk_reviews_detection_id_detections",
        ),
    )
    op.create_index("ix_reviews_job", "reviews", ["job_id"])
    op.create_index("ix_reviews_media", "reviews", ["media_id"])


def upgrade() -> None:
    _jobs()
    _media()
    _detections_and_reviews()


def downgrade() -> None:
    for table in ("reviews", "detections", "media", "jobs"):
        op.drop_table(table)
