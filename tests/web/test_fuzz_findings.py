"""What schemathesis found on the live site, kept as plain regression tests: each was a 500 or
a request the schema refuses being accepted."""

from __future__ import annotations

from tests.web.helpers import SCRIPT
from tests.web.test_teams import Team


def test_a_project_name_sent_as_a_list_is_refused_not_stored_as_its_python_spelling(
    client, team: Team
) -> None:
    headers = {**SCRIPT, **team.auth("alice")}
    answer = client.post("/api/projects", json={"name": ["Season"]}, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "`name` must be text."
    listed = client.get("/api/projects", headers=team.auth("alice")).get_json()["projects"]
    assert "['Season']" not in {p["name"] for p in listed}


def test_an_id_too_large_for_the_database_is_no_such_thing(client, team: Team) -> None:
    headers = {**SCRIPT, **team.auth("alice")}
    huge = 10**30
    assert client.get(f"/api/projects/{huge}/summary", headers=headers).status_code == 404
    clock = f"/api/projects/{team.p1.id}/periods/{huge}/clock"
    assert client.delete(clock, headers=headers).status_code == 404
    assert client.get(f"/api/projects/{2**63}", headers=headers).status_code == 404  # 19 digits
    rule = {"location": huge, "category": "animal", "bbox": [0.1, 0.1, 0.2, 0.2]}
    answer = client.post(f"/api/projects/{team.p1.id}/rules", json=rule, headers=headers)
    assert answer.status_code == 400
    review = {"action": "accept", "media_id": huge, "reviewer": "alice"}
    answer = client.post(f"/api/projects/{team.p1.id}/reviews", json=review, headers=headers)
    assert answer.status_code in (400, 404)
