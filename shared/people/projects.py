"""Projects (surveys) and their members: a project has a name, a description, its cameras' UTC
offset and default settings; each member has one role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from shared.people.errors import PeopleError
from shared.people.roles import Role
from shared.people.users import User
from shared.store.reads import aware
from shared.store.schema import (
    clock_corrections,
    deployment_periods,
    media,
    memberships,
    project_jobs,
    projects,
    users,
)
from shared.store.snapshot import Reader

UTC_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    description: str
    utc_offset: str
    settings: dict[str, Any]
    link_access: bool
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "utc_offset": self.utc_offset,
            "settings": self.settings,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    email: str
    role: Role


def _project(row: Any) -> Project:
    return Project(
        row.id,
        row.name,
        row.description,
        row.utc_offset,
        dict(row.settings or {}),
        bool(row.link_access),
        aware(row.created_at) or row.created_at,
    )


def check_project_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 200:
        raise PeopleError("A project's name is 1-200 characters.")
    return name


def check_utc_offset(raw: str) -> str:
    raw = raw.strip()
    if raw and not UTC_OFFSET.match(raw):
        raise PeopleError(f"{raw!r} is not a UTC offset; write it as +02:00 or -05:30.")
    return raw


def create_project(
    engine: Engine,
    name: str,
    owner: User,
    *,
    now: datetime,
    description: str = "",
    utc_offset: str = "",
) -> Project:
    """A new project with `owner` as its first member."""
    name, description = check_project_name(name), description.strip()
    utc_offset = check_utc_offset(utc_offset)
    values = {
        "name": name,
        "description": description,
        "utc_offset": utc_offset,
        "settings": {},
        "link_access": False,
        "created_at": now,
    }
    with engine.begin() as conn:
        new_id = int(
            conn.execute(insert(projects).values(**values).returning(projects.c.id)).scalar() or 0
        )
        conn.execute(
            insert(memberships).values(
                project_id=new_id, user_id=owner.id, role=Role.OWNER.value, added_at=now
            )
        )
    return Project(new_id, name, description, utc_offset, {}, False, now)


def project_by_id(engine: Reader, project_id: int) -> Project | None:
    with engine.connect() as conn:
        row = conn.execute(select(projects).where(projects.c.id == project_id)).first()
    return _project(row) if row else None


def update_project(
    engine: Engine,
    project_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    utc_offset: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Project | None:
    """Changes what is given (each checked); None when there is no such project."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = check_project_name(name)
    if description is not None:
        values["description"] = description.strip()
    if utc_offset is not None:
        values["utc_offset"] = check_utc_offset(utc_offset)
    if settings is not None:
        values["settings"] = settings
    if values:
        with engine.begin() as conn:
            conn.execute(update(projects).where(projects.c.id == project_id).values(**values))
    return project_by_id(engine, project_id)


def projects_of(engine: Engine, user: User) -> list[tuple[Project, Role | None]]:
    """The projects the user belongs to with their role; a site admin sees every project (with
    their own role where they are a member, None elsewhere)."""
    query = select(projects, memberships.c.role).outerjoin(
        memberships,
        (memberships.c.project_id == projects.c.id) & (memberships.c.user_id == user.id),
    )
    if not user.site_admin:
        query = query.where(memberships.c.role.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(projects.c.name, projects.c.id)).all()
    return [(_project(r), Role(r.role) if r.role else None) for r in rows]


def role_of(engine: Engine, project_id: int, user_id: int) -> Role | None:
    with engine.connect() as conn:
        role = conn.execute(
            select(memberships.c.role).where(
                memberships.c.project_id == project_id, memberships.c.user_id == user_id
            )
        ).scalar()
    return Role(role) if role else None


def members(engine: Engine, project_id: int) -> list[Member]:
    query = (
        select(users.c.id, users.c.name, users.c.email, memberships.c.role)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.name)
    )
    with engine.connect() as conn:
        return [Member(r.id, r.name, r.email, Role(r.role)) for r in conn.execute(query)]


def _owners(conn: Connection, project_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                memberships.c.project_id == project_id, memberships.c.role == Role.OWNER.value
            )
        ).scalar()
        or 0
    )


def set_member(engine: Engine, project_id: int, user: User, role: Role, *, now: datetime) -> bool:
    """Adds the user with `role`, or changes their role; True when they were not a member.
    A project always keeps an owner."""
    with engine.begin() as conn:
        current = conn.execute(
            select(memberships.c.role)
            .where(memberships.c.project_id == project_id, memberships.c.user_id == user.id)
            .with_for_update()
        ).scalar()
        if current is None:
            conn.execute(
                insert(memberships).values(
                    project_id=project_id, user_id=user.id, role=role.value, added_at=now
                )
            )
            return True
        conn.execute(
            update(memberships)
            .where(memberships.c.project_id == project_id, memberships.c.user_id == user.id)
            .values(role=role.value)
        )
        if current == Role.OWNER.value and _owners(conn, project_id) == 0:
            raise PeopleError(f"{user.name} is this project's last owner; make another first.")
    return False


def remove_member(engine: Engine, project_id: int, user: User) -> bool:
    with engine.begin() as conn:
        done = conn.execute(
            delete(memberships).where(
                memberships.c.project_id == project_id, memberships.c.user_id == user.id
            )
        )
        if done.rowcount and _owners(conn, project_id) == 0:
            raise PeopleError(f"{user.name} is this project's last owner; make another first.")
    return bool(done.rowcount)


@dataclass(frozen=True)
class JobPlace:
    """Where a job belongs: its project (None: the site's Inbox) and who uploaded it."""

    project_id: int | None
    link_access: bool
    uploader_id: int | None


INBOX = JobPlace(None, True, None)


def place_of(engine: Reader, job_id: str) -> JobPlace:
    query = (
        select(project_jobs.c.project_id, project_jobs.c.uploader_id, projects.c.link_access)
        .join(projects, projects.c.id == project_jobs.c.project_id)
        .where(project_jobs.c.job_id == job_id)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return INBOX
    return JobPlace(row.project_id, bool(row.link_access), row.uploader_id)


def put_job(
    engine: Engine,
    job_id: str,
    project_id: int,
    *,
    uploader_id: int | None,
    now: datetime,
    location_id: int | None = None,
) -> None:
    """Puts the job into the project (from the Inbox or from another project); `location_id`:
    the location the uploader said the whole card is from. A moved job's deployment periods
    are dropped: they are matched again to the new project's locations."""
    with engine.begin() as conn:
        moved = conn.execute(
            update(project_jobs)
            .where(project_jobs.c.job_id == job_id)
            .values(project_id=project_id, location_id=location_id)
        )
        if moved.rowcount:
            of_job = select(deployment_periods.c.id).where(deployment_periods.c.job_id == job_id)
            conn.execute(delete(clock_corrections).where(clock_corrections.c.period_id.in_(of_job)))
            conn.execute(delete(deployment_periods).where(deployment_periods.c.job_id == job_id))
        conn.execute(  # stored before it was put here (an Inbox job moved): it follows
            update(media)
            .where(media.c.job_id == job_id)
            .values(project_id=project_id, period_id=None)
        )
        if not moved.rowcount:
            conn.execute(
                insert(project_jobs).values(
                    job_id=job_id,
                    project_id=project_id,
                    uploader_id=uploader_id,
                    added_at=now,
                    location_id=location_id,
                )
            )


def job_ids_of(engine: Engine, project_id: int, *, uploader_id: int | None = None) -> list[str]:
    """The project's jobs, oldest first (only the ones `uploader_id` made, when given)."""
    query = select(project_jobs.c.job_id).where(project_jobs.c.project_id == project_id)
    if uploader_id is not None:
        query = query.where(project_jobs.c.uploader_id == uploader_id)
    with engine.connect() as conn:
        return list(
            conn.execute(query.order_by(project_jobs.c.added_at, project_jobs.c.job_id)).scalars()
        )


def places_of(engine: Engine, job_ids: list[str]) -> dict[str, int]:
    """job id -> project id for those of `job_ids` that are in a project (the rest: Inbox)."""
    if not job_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(project_jobs.c.job_id, project_jobs.c.project_id).where(
                project_jobs.c.job_id.in_(job_ids)
            )
        ).all()
    return {r.job_id: r.project_id for r in rows}


def all_projects(engine: Engine) -> list[Project]:
    with engine.connect() as conn:
        return [_project(r) for r in conn.execute(select(projects).order_by(projects.c.name))]
