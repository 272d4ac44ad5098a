"""An owner deletes a project with its uploads, on both databases with a real worker: only an
owner, only with its name typed again, never while an upload runs; afterwards its uploads'
links say 410 (deleted), their files, records and rows are gone, and the other project is
untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.contract import load_state
from shared.storage import Storage
from shared.store.schema import ended_jobs, locations, media, memberships
from shared.surveys.project_exports import export_record
from tests.web.helpers import BURST, form, zip_of
from tests.web.test_survey_locations import send
from web import resources

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
PHOTOS = sorted(BURST.glob("*.JPG"))


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@BOTH
def test_an_owner_deletes_a_project_with_its_uploads(
    app, client, team, run_worker, redis_conn, settings
) -> None:
    url = f"/api/projects/{team.p1.id}"
    card = send(client, team, "alice", {f"StationC/{p.name}": p.read_bytes() for p in PHOTOS})
    assert card.status_code == 201
    job_id = card.get_json()["id"]
    theirs = client.post(
        "/api/jobs",
        data={
            **form(files=[(zip_of({PHOTOS[0].name: PHOTOS[0].read_bytes()}), "b.zip")]),
            "project": str(team.p2.id),
        },
        content_type="multipart/form-data",
        headers=team.auth("bob"),
    )
    assert theirs.status_code == 201
    name = {"confirm": team.p1.name}
    busy = client.delete(url, json=name, headers=team.auth("alice"))
    assert busy.status_code == 409 and "still queued or running" in busy.get_json()["error"]
    run_worker()
    assert client.post(f"{url}/exports", headers=team.auth("alice")).status_code == 202
    run_worker()
    storage = Storage(settings.data_dir)
    assert storage.result_zip(job_id).is_file() and storage.project_zip(team.p1.id).is_file()

    assert client.delete(url, json=name, headers=team.auth("rita")).status_code == 403
    assert client.delete(url, json=name, headers=team.auth("bob")).status_code == 404
    wrong = client.delete(url, json={"confirm": "P"}, headers=team.auth("alice"))
    assert wrong.status_code == 400 and "name exactly" in wrong.get_json()["error"]
    assert client.get(f"/api/jobs/{job_id}", headers=team.auth("alice")).status_code == 200

    gone = client.delete(url, json=name, headers=team.auth("alice"))
    assert gone.status_code == 200 and gone.get_json() == {"deleted": team.p1.id, "uploads": 1}
    with app.app_context():
        engine = resources.results_store()
    assert _count(engine, media, media.c.job_id == job_id) == 0
    assert _count(engine, locations, locations.c.project_id == team.p1.id) == 0
    assert _count(engine, memberships, memberships.c.project_id == team.p1.id) == 0
    assert _count(engine, ended_jobs, ended_jobs.c.id == job_id, ended_jobs.c.why == "deleted") == 1
    assert not storage.result_zip(job_id).exists() and not storage.thumbnail_dir(job_id).exists()
    assert not storage.project_zip(team.p1.id).exists()
    assert load_state(redis_conn, job_id) is None and export_record(redis_conn, team.p1.id) is None
    old_link = client.get(f"/api/jobs/{job_id}", headers=team.auth("alice"))
    assert (
        old_link.status_code == 410 and "deleted with its project" in old_link.get_json()["error"]
    )
    assert client.get(url, headers=team.auth("alice")).status_code == 404
    listed = client.get("/api/projects", headers=team.auth("alice")).get_json()
    assert team.p1.id not in {p["id"] for p in listed["projects"]}
    # the other project is untouched
    other = client.get(f"/api/projects/{team.p2.id}/summary", headers=team.auth("bob")).get_json()
    assert other["images"] == 1
