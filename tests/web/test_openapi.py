"""The OpenAPI document against the app: every /api/ route described, nothing described that
the app does not serve, and the document served as JSON."""

from __future__ import annotations

from web.openapi import app_operations, documented_operations, load_spec


def test_every_api_route_is_in_the_document_and_nothing_else(app) -> None:
    served, described = app_operations(app), documented_operations()
    assert served - described == set(), "routes the OpenAPI document does not describe"
    assert described - served == set(), "operations the app does not serve"
    assert len(served) >= 60


def test_a_route_added_without_its_description_is_found(app) -> None:
    app.add_url_rule("/api/jobs/<job_id>/sneaky", "sneaky", lambda job_id: "", methods=["PUT"])
    assert app_operations(app) - documented_operations() == {("PUT", "/api/jobs/{job_id}/sneaky")}


def test_the_document_is_served_and_is_openapi_3_1(client) -> None:
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    spec = answer.get_json()
    assert spec == load_spec()
    assert spec["openapi"] == "3.1.0"
    assert "x-shared" not in spec  # the YAML's anchors only
    for item in spec["paths"].values():
        for method, op in item.items():
            if method != "parameters":
                assert op["operationId"] and op["summary"] and op["responses"]


def test_every_refusal_answer_is_json_with_an_error() -> None:
    spec = load_spec()
    for name, answer in spec["components"]["responses"].items():
        schema = answer["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, name
