"""Projects, members and roles, where each job belongs, and the audit log; on both databases.
Also the upgrade: every job stored before projects existed gets a project of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, select

from shared.people import audit
from shared.people.errors import PeopleError
from shared.people.projects import (
    INBOX,
    create_project,
    job_ids_of,
    members,
    place_of,
    projects_of,
    put_job,
    remove_member,
    role_of,
    set_member,
)
from shared.people.roles import Can, Role, parse_role
from shared.people.users import User, create_user
from shared.store.engine import make_engine
from shared.store.migrate import alembic_config, migrate
from shared.store.schema import jobs, project_jobs, projects

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def people(store) -> tuple[User, User, User]:
    return tuple(  # type: ignore[return-value]
        create_user(store, name, f"{name}@example.org", "a long enough password", now=NOW)
        for name in ("alice", "bob", "carol")
    )


def test_a_project_starts_with_its_maker_as_owner(store) -> None:
    alice, bob, _ = people(store)
    project = create_project(store, "  Kenya   2027 ", alice, now=NOW, utc_offset="+03:00")
    assert project.name == "Kenya 2027" and not project.link_access
    assert role_of(store, project.id, alice.id) is Role.OWNER
    assert role_of(store, project.id, bob.id) is None
    assert projects_of(store, alice) == [(project, Role.OWNER)]
    assert projects_of(store, bob) == []
    with pytest.raises(PeopleError, match="not a UTC offset"):
        create_project(store, "x", alice, now=NOW, utc_offset="3")


def test_a_site_admin_sees_every_project_without_a_role(store) -> None:
    alice, _, _ = people(store)
    root = create_user(store, "root", "root@example.org", None, now=NOW, site_admin=True)
    project = create_project(store, "P1", alice, now=NOW)
    assert projects_of(store, root) == [(project, None)]
    assert role_of(store, project.id, root.id) is None


def test_members_get_one_role_each_and_a_project_keeps_an_owner(store) -> None:
    alice, bob, carol = people(store)
    project = create_project(store, "P1", alice, now=NOW)
    assert set_member(store, project.id, bob, Role.REVIEWER, now=NOW) is True
    assert set_member(store, project.id, bob, Role.VIEWER, now=NOW) is False
    assert [(m.name, m.role) for m in members(store, project.id)] == [
        ("alice", Role.OWNER),
        ("bob", Role.VIEWER),
    ]
    with pytest.raises(PeopleError, match="last owner"):
        set_member(store, project.id, alice, Role.REVIEWER, now=NOW)
    with pytest.raises(PeopleError, match="last owner"):
        remove_member(store, project.id, alice)
    assert role_of(store, project.id, alice.id) is Role.OWNER  # both refusals rolled back
    set_member(store, project.id, carol, Role.OWNER, now=NOW)
    assert remove_member(store, project.id, alice)
    assert not remove_member(store, project.id, alice)
    assert projects_of(store, alice) == []


def test_roles_allow_what_the_issue_says() -> None:
    assert Role.OWNER.can == frozenset(Can)
    assert Can.REVIEW in Role.REVIEWER.can and Can.UPLOAD not in Role.REVIEWER.can
    assert Role.UPLOADER.can == {Can.UPLOAD, Can.READ_OWN}
    assert Can.READ in Role.VIEWER.can and Can.REVIEW not in Role.VIEWER.can
    assert parse_role(" Reviewer ") is Role.REVIEWER
    with pytest.raises(PeopleError, match="owner, reviewer, uploader, viewer"):
        parse_role("admin")


def test_a_job_is_in_the_inbox_until_put_into_a_project(store) -> None:
    alice, bob, _ = people(store)
    p1 = create_project(store, "P1", alice, now=NOW)
    p2 = create_project(store, "P2", bob, now=NOW)
    assert place_of(store, "job-1") == INBOX
    put_job(store, "job-1", p1.id, uploader_id=alice.id, now=NOW)
    put_job(store, "job-2", p1.id, uploader_id=bob.id, now=NOW)
    assert place_of(store, "job-1").project_id == p1.id
    assert place_of(store, "job-1").link_access is False
    assert job_ids_of(store, p1.id) == ["job-1", "job-2"]
    assert job_ids_of(store, p1.id, uploader_id=bob.id) == ["job-2"]
    put_job(store, "job-2", p2.id, uploader_id=None, now=NOW)  # moved: the uploader stays
    assert place_of(store, "job-2").project_id == p2.id
    assert place_of(store, "job-2").uploader_id == bob.id


def test_the_audit_log_reads_newest_first_and_pages(store) -> None:
    alice, _, _ = people(store)
    project = create_project(store, "P1", alice, now=NOW)
    for n in range(5):
        audit.record(
            store,
            project.id,
            actor="alice",
            user_id=alice.id,
            action="review:accept",
            detail={"media_id": n},
            now=NOW,
        )
    newest = audit.entries(store, project.id, limit=2)
    assert [e.detail["media_id"] for e in newest] == [4, 3]
    older = audit.entries(store, project.id, limit=10, before=newest[-1].id)
    assert [e.detail["media_id"] for e in older] == [2, 1, 0]
    assert older[0].public()["actor"] == "alice"


def test_the_upgrade_puts_every_stored_job_into_a_project_of_its_own(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0005")
            conn.commit()
        with engine.begin() as conn:
            for job_id in ("aaaaaaaa-old-one", "bbbbbbbb-old-two"):
                conn.execute(
                    insert(jobs).values(
                        id=job_id,
                        created_at=datetime(2026, 5, 2, tzinfo=UTC),
                        model_name="m",
                        model_meta={},
                        threshold=0.2,
                        render_threshold=0.2,
                        min_confidence=0.005,
                        options={},
                        images=1,
                        failures=0,
                        counts={},
                        skipped=[],
                    )
                )
        migrate(engine)
        with engine.connect() as conn:
            made = conn.execute(
                select(projects.c.name, projects.c.link_access, project_jobs.c.job_id)
                .join(project_jobs, project_jobs.c.project_id == projects.c.id)
                .order_by(project_jobs.c.job_id)
            ).all()
        assert [tuple(r) for r in made] == [
            ("Upload aaaaaaaa (2026-05-02)", True, "aaaaaaaa-old-one"),
            ("Upload bbbbbbbb (2026-05-02)", True, "bbbbbbbb-old-two"),
        ]
        assert place_of(engine, "aaaaaaaa-old-one").link_access is True
    finally:
        engine.dispose()
