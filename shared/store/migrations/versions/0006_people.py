"""People and projects: users, API tokens, password resets, projects with members and roles,
which project each job belongs to, and a per-project audit log. Every job already stored is put
into a project of its own (named from the job, its capability link still open), so an upgrade
loses nothing and no link stops working.

Revision ID: 0006
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tables() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("site_admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_password_resets_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_password_resets"),
        sa.UniqueConstraint("digest", name="uq_password_resets_digest"),
    )
    op.create_table(
        "projects",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("utc_offset", sa.String(6), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("link_access", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
    )
    op.create_table(
        "memberships",
        sa.Column("project_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_memberships_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_memberships"),
    )
    op.create_index("ix_memberships_user", "memberships", ["user_id"])
    op.create_table(
        "project_jobs",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("project_id", BigId, nullable=False),
        sa.Column("uploader_id", BigId),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_project_jobs_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name="pk_project_jobs"),
    )
    op.create_index("ix_project_jobs_project", "project_jobs", ["project_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("project_id", BigId, nullable=False),
        sa.Column("user_id", BigId),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_audit_log_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_project", "audit_log", ["project_id", "id"])
    op.add_column("reviews", sa.Column("user_id", BigId))


def _existing_jobs_into_projects() -> None:
    """One project per stored job, its link kept open: what each upload was before accounts."""
    conn = op.get_bind()
    jobs = sa.table("jobs", sa.column("id"), sa.column("created_at", sa.DateTime(timezone=True)))
    projects = sa.table(
        "projects",
        sa.column("id"),
        sa.column("name"),
        sa.column("description"),
        sa.column("utc_offset"),
        sa.column("settings", sa.JSON()),
        sa.column("link_access"),
        sa.column("created_at"),
    )
    project_jobs = sa.table(
        "project_jobs", sa.column("job_id"), sa.column("project_id"), sa.column("added_at")
    )
    now = datetime.now(UTC)  # the moment of the upgrade, recorded once
    for job_id, created in conn.execute(sa.select(jobs.c.id, jobs.c.created_at)).all():
        when = created.strftime("%Y-%m-%d") if created else "before accounts"
        project_id = conn.execute(
            projects.insert()
            .values(
                name=f"Upload {job_id[:8]} ({when})",
                description="Made from an upload stored before projects existed.",
                utc_offset="",
                settings={},
                link_access=True,
                created_at=created or now,
            )
            .returning(projects.c.id)
        ).scalar_one()
        conn.execute(
            project_jobs.insert().values(job_id=job_id, project_id=project_id, added_at=now)
        )


def upgrade() -> None:
    _tables()
    _existing_jobs_into_projects()


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("user_id")
    for table in (
        "audit_log",
        "project_jobs",
        "memberships",
        "projects",
        "password_resets",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
