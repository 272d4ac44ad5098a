"""How fast a project's pages answer for a season of cards, on SQLite and on PostgreSQL.

    python -m benchmarks.bench_projects --uploads 20 --media 25000 --repeat 100

Fills a fresh store with one project of `--uploads` cards of `--media` synthetic photos each
(`bench_store`'s photos: 0-3 boxes, 40 camera folders, 1 in 50 failed), stored through the
model server's own batched writes and put into the project as uploads are; a reviewer then
accepts a tenth of one card in bulk. Each request then runs through the Flask app with the
reviewer's API token, `--repeat` times, and the script prints min / median (p50) / p99 / max
milliseconds: the project's gallery, most uncertain first across every card, what is not
reviewed yet, one card, one location, the summary, and one review action. Without
`--database` it measures an SQLite file and a throwaway PostgreSQL server started like the test
suite's.
"""

from __future__ import annotations

import argparse
import functools
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_store import on_each_database, report, synthetic, timed
from shared.people.projects import create_project, put_job, set_member
from shared.people.roles import Role
from shared.people.tokens import create_token
from shared.people.users import create_user
from shared.settings import Settings
from shared.store import open_store
from shared.store.writes import JobRow, add_media, finish_job, start_job

NOW = datetime(2026, 6, 1, tzinfo=UTC)
REQUESTS = {
    "gallery, upload order (48)": "media?per_page=48",
    "gallery, most uncertain first": "media?order=uncertain&per_page=48",
    "not reviewed, most uncertain first": "media?reviewed=no&order=uncertain&per_page=48",
    "next uncertain (review mode)": "media?reviewed=no&order=uncertain&per_page=1",
    "animals, most confident first": "media?outcome=animal&order=confidence&per_page=48",
    "uncertain, page 200": "media?order=uncertain&page=200&per_page=48",
    "one card, uncertain": "media?job={job}&order=uncertain&per_page=48",
    "summary": "summary",
}


def job_id(n: int) -> str:
    return f"{n:04d}".ljust(32, "P")


def fill(url: str, uploads: int, count: int) -> tuple[int, str, float]:
    """The project, its cards and a reviewer's token; returns (project id, token, images/s)."""
    engine = open_store(url)
    began = time.perf_counter()
    owner = create_user(engine, "owner", "owner@example.org", None, now=NOW)
    reviewer = create_user(engine, "rita", "rita@example.org", None, now=NOW)
    project = create_project(engine, "Season", owner, now=NOW)
    set_member(engine, project.id, reviewer, Role.REVIEWER, now=NOW)
    for n in range(uploads):
        card = job_id(n)
        start_job(engine, JobRow(card, NOW, "synthetic", 0.2, 0.2, 0.005))
        batch = []
        for record in synthetic(count, seed=n + 1):
            batch.append(record)
            if len(batch) == 250:
                add_media(engine, card, batch, 0.2, "synthetic")
                batch = []
        add_media(engine, card, batch, 0.2, "synthetic")
        finish_job(engine, card, NOW, images=count, failures=count // 50, counts={})
        put_job(engine, card, project.id, uploader_id=owner.id, now=NOW)
    rate = uploads * count / (time.perf_counter() - began)
    token, _ = create_token(engine, reviewer.id, "bench", now=NOW)
    engine.dispose()
    return project.id, token, rate


def measure(url: str, data_dir: Path, uploads: int, count: int, repeat: int) -> None:
    from web import create_app

    project, token, rate = fill(url, uploads, count)
    app = create_app({"TESTING": True}, Settings(data_dir=data_dir, database_url=url))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/api/projects/{project}"
    print(
        f"\n{url.split(':', 1)[0]}: a project of {uploads} uploads x {count:,} media "
        f"({uploads * count:,}) stored at {rate:,.0f} images/s"
    )
    began = time.perf_counter()
    for folder in range(4):  # a tenth of one card: four camera folders of forty
        done = client.post(
            f"{base}/reviews",
            headers=auth,
            json={
                "action": "bulk_accept",
                "filter": {"folder": f"site/cam{folder:02d}", "job": job_id(0)},
            },
        )
        assert done.status_code == 201, done.get_data(as_text=True)
    print(f"  bulk accept across the project: {time.perf_counter() - began:.2f} s")
    for label, path in REQUESTS.items():
        target = f"{base}/{path.format(job=job_id(uploads // 2))}"
        report(
            label,
            [timed(functools.partial(client.get, target, headers=auth)) for _ in range(repeat)],
        )
    targets = client.get(
        f"{base}/media?reviewed=no&order=uncertain&per_page={repeat}", headers=auth
    ).get_json()["media"]
    report(
        "one review action (accept)",
        [
            timed(
                functools.partial(
                    client.post,
                    f"{base}/reviews",
                    headers=auth,
                    json={"action": "accept", "media_id": m["id"]},
                ),
                201,
            )
            for m in targets
        ],
    )
    app.extensions["trapline.store"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--media", type=int, default=25_000, help="per upload")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--database", action="append", help="a database URL (repeatable)")
    args = parser.parse_args()
    on_each_database(
        args.database,
        lambda url, folder: measure(url, folder, args.uploads, args.media, args.repeat),
        "trapline-bench-projects-",
    )


if __name__ == "__main__":
    main()
