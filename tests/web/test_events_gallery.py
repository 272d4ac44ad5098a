"""The gallery by event and "accept this event", on SQLite and PostgreSQL: real bursts (camtrapR's
StationC frames, two in one second, and a heron photo) uploaded as two camera folders, run by a
real RQ worker, then paged in event order, filtered to one event and accepted as one action."""

from __future__ import annotations

import pytest

from tests.web.helpers import SCRIPT
from tests.web.test_camtrap_places import upload

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


def media(client, job_id: str, **query) -> dict:
    with client.get(f"/api/jobs/{job_id}/media", query_string=query) as response:
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@BOTH
def test_pages_in_event_order_and_accept_one_event(client, run_worker) -> None:
    job_id = upload(client)
    run_worker()
    first = media(client, job_id, order="event", per_page=2)
    second = media(client, job_id, order="event", per_page=2, page=2)
    assert first["total"] == 4 and first["pages"] == 2
    order = [
        (m["path"].rsplit("/", 1)[1], m["event"]["id"], m["event"]["files"])
        for m in first["media"] + second["media"]
    ]
    assert order[0][1:] == ("E000001", 1) and order[0][0].startswith("2021")  # heron/
    assert order[1:] == [
        ("StationC__2009-04-11__21-44-00(1).JPG", "E000002", 1),
        ("StationC__2009-04-11__21-46-00(1).JPG", "E000003", 2),
        ("StationC__2009-04-11__21-46-00(2).JPG", "E000003", 2),
    ]
    assert first["media"][0]["event"]["deployment"] == "heron"
    one = media(client, job_id, event="E000003")
    assert [m["path"] for m in one["media"]] == [
        "station-c/StationC__2009-04-11__21-46-00(1).JPG",
        "station-c/StationC__2009-04-11__21-46-00(2).JPG",
    ]
    with client.post(
        f"/api/jobs/{job_id}/reviews",
        headers=SCRIPT,
        json={"action": "bulk_accept", "reviewer": "Ana", "filter": {"event": "E000003"}},
    ) as done:
        assert done.status_code == 201 and done.get_json()["images"] == 2
    reviewed = media(client, job_id, reviewed="yes")
    assert sorted(m["path"] for m in reviewed["media"]) == [m["path"] for m in one["media"]]
    assert all(m["reviewer"] == "Ana" for m in reviewed["media"])
    with client.get(f"/api/jobs/{job_id}/media?event=E999999") as unknown:
        assert unknown.status_code == 400 and "no event E999999" in unknown.get_json()["error"]
    # events are kept between pages, but not past a new threshold (the test model's boxes are
    # at most 0.9 confident)
    assert "empty" not in {m["event"]["outcome"] for m in first["media"]}
    with client.post(
        f"/api/jobs/{job_id}/threshold", headers=SCRIPT, json={"threshold": 0.95}
    ) as moved:
        assert moved.status_code == 200
    after = media(client, job_id, order="event", per_page=2)
    assert {m["event"]["outcome"] for m in after["media"]} == {"empty"}
