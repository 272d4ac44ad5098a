"""A project's locations (cameras registered once) and the deployment periods each card adds;
the location an upload was said to come from.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("project_id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("latitude", sa.Double()),
        sa.Column("longitude", sa.Double()),
        sa.Column("camera_serial", sa.Text(), nullable=False),
        sa.Column("camera_model", sa.Text(), nullable=False),
        sa.Column("camera_height", sa.Double()),
        sa.Column("bait", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_locations_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
        sa.UniqueConstraint("project_id", "name", name="uq_locations_project_name"),
    )
    op.create_table(
        "deployment_periods",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("deployment", sa.Text(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=False)),
        sa.Column("end", sa.DateTime(timezone=False)),
        sa.Column("media", sa.Integer(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name="fk_deployment_periods_location_id_locations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_periods"),
        sa.UniqueConstraint("job_id", "deployment", name="uq_deployment_periods_job_deployment"),
    )
    op.create_index("ix_deployment_periods_location", "deployment_periods", ["location_id"])
    op.add_column("project_jobs", sa.Column("location_id", BigId))


def downgrade() -> None:
    with op.batch_alter_table("project_jobs") as batch:
        batch.drop_column("location_id")
    op.drop_table("deployment_periods")
    op.drop_table("locations")
