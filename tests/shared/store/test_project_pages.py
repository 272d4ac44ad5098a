"""A project's pages read from the project's own indexes give exactly what merging its cards
gives (every order, both databases, across the page where unreadable files begin); its summary
adds up the counts each finished card keeps, and they follow a new threshold; migration 0010
gives every stored file its upload's project."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, update

from shared.people.projects import create_project, put_job
from shared.people.users import create_user
from shared.store.engine import make_engine
from shared.store.migrate import alembic_config, migrate
from shared.store.project_queries import project_media_page, project_summary
from shared.store.queries import MediaQuery
from shared.store.records import MediaRecord
from shared.store.review import ReviewAction, apply
from shared.store.schema import jobs as jobs_table
from shared.store.schema import media
from shared.store.thresholds import apply_threshold
from shared.store.writes import JobRow, add_media, finish_job, start_job

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def card(engine, job_id: str, project: int, owner: int, seed: int) -> None:
    put_job(engine, job_id, project, uploader_id=owner, now=NOW)
    start_job(engine, JobRow(job_id, NOW, "test", 0.3, 0.3, 0.01))
    records = [
        MediaRecord(f"cam/{i:02d}.jpg", failure="not an image", ordinal=i)
        if i % 4 == 3
        else MediaRecord(
            f"cam/{i:02d}.jpg",
            [{"category": "1", "conf": ((i * 7 + seed) % 10) / 10, "bbox": [0, 0, 0.1, 0.1]}]
            if i % 3
            else [],
            ordinal=i,
        )
        for i in range(9)
    ]
    add_media(engine, job_id, records, 0.3, "test")
    finish_job(engine, job_id, NOW, images=9, failures=2, counts={})


def a_project(engine) -> tuple[int, list[str]]:
    owner = create_user(engine, "ana", "ana@example.org", None, now=NOW)
    project = create_project(engine, "Season", owner, now=NOW)
    jobs = [f"{n}".ljust(32, "J") for n in range(3)]
    for n, job_id in enumerate(jobs):
        card(engine, job_id, project.id, owner.id, n)
    return project.id, jobs


def pages(engine, jobs, query: MediaQuery, project: int | None) -> list[tuple[str, str]]:
    found = []
    for number in range(1, 9):  # 8 pages of 4: past the end
        page = project_media_page(engine, jobs, replace(query, page=number), project=project)
        found += [(m["job"], m["path"]) for m in page["media"]]
        assert page["total"] == {"": 27, "no": 26, "yes": 1}[query.reviewed]
    return found


def pages_of(engine, jobs, query: MediaQuery, project: int | None) -> list[tuple[str, str]]:
    page = project_media_page(engine, jobs, replace(query, per_page=50), project=project)
    return [(m["job"], m["path"]) for m in page["media"]]


def test_the_projects_indexes_answer_as_merging_its_cards_does(store) -> None:
    project, jobs = a_project(store)
    first = project_media_page(store, jobs, MediaQuery(order="path"), project=project)
    one_file = first["media"][0]
    apply(store, one_file["job"], ReviewAction("accept", "ana", media_id=one_file["id"]), NOW)
    for order in ("path", "uncertain", "confidence", "captured"):
        for reviewed in ("", "no", "yes"):
            query = MediaQuery(order=order, reviewed=reviewed, per_page=4)
            merged = pages(store, jobs, query, None)
            assert pages(store, jobs, query, project) == merged, (order, reviewed)
            assert len(merged) == {"": 27, "no": 26, "yes": 1}[reviewed]
        # with a filter the cards' indexes cover, both ways agree too
        animals = MediaQuery(order=order, outcome="animal", per_page=4)
        assert pages_of(store, jobs, animals, project) == pages_of(store, jobs, animals, None)
    last = pages(store, jobs, MediaQuery(order="uncertain", per_page=4), project)
    assert {path for _, path in last[-6:]} == {"cam/03.jpg", "cam/07.jpg"}  # unreadable: last
    # one card of it, and an uploader's own cards, still read by job
    one = project_media_page(store, jobs, MediaQuery(order="uncertain"), jobs[0], project=project)
    assert {m["job"] for m in one["media"]} == {jobs[0]} and one["total"] == 9


def test_the_summary_adds_up_the_counts_each_card_keeps(store) -> None:
    _, jobs = a_project(store)

    def live() -> dict:
        with store.begin() as conn:  # forget what the cards keep: grouped from their files
            conn.execute(update(jobs_table).values(counts={}))
        return project_summary(store, jobs)

    kept = project_summary(store, jobs)
    assert kept["images"] == 27 and kept["outcomes"]["error"] == 6
    apply_threshold(store, jobs[0], 0.75)
    after = project_summary(store, jobs)
    assert after != kept
    assert after == live()  # the kept counts followed the new threshold
    apply_threshold(store, jobs[1], 0.5)  # a card that kept none (an older release's) gets them
    with store.connect() as conn:
        kept_now = conn.execute(select(jobs_table.c.id, jobs_table.c.counts)).all()
    assert [job for job, counts in kept_now if "by_outcome" in counts] == [jobs[1]]
    assert project_summary(store, jobs) == live()


def test_migration_0010_gives_stored_files_their_project(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        project, _ = a_project(engine)  # stored as the code does, then as 0009 held it
        with engine.begin() as conn:
            conn.execute(update(media).values(project_id=None))
            command.downgrade(alembic_config(conn), "0009")
            command.upgrade(alembic_config(conn), "0010")
        with engine.connect() as conn:
            found = set(conn.execute(select(media.c.project_id)).scalars())
        assert found == {project}
    finally:
        engine.dispose()
