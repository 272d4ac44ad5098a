"""schemathesis against the live site over its OpenAPI document: every operation, positive and
negative examples (fixed seed, a bounded number per operation), on a real app with real Redis
and a card a real RQ worker ran. No 500, every answer matches its schema, nothing the schema
refuses is accepted.

Left out: schemathesis's "positive data acceptance", which expects every request the schema
allows to succeed. Some refusals cannot be said in a schema: a class set that does not exist,
a clock shift of 0 hours, a gap that ends before it starts, a review of a box of another image.
Those are 400 with the reason, by design."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as fuzz_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.web.helpers import SCRIPT, photo
from tests.web.test_survey_locations import send
from tests.web.test_teams import Team
from web.openapi import documented_operations, load_spec

EXAMPLES = 12  # per operation and mode: 63 operations x 2 modes in about two minutes here


def fuzz(operation: Any, mode: GenerationMode, fill: dict[str, Any], call: Any) -> None:
    @fuzz_settings(
        max_examples=EXAMPLES,
        derandomize=True,  # a fixed seed: the same examples every run
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def examples(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and case.path_parameters:
            # valid ids reach the code behind the 404: the card, its files, the team's project
            for name in case.path_parameters:
                if name in fill:
                    case.path_parameters[name] = fill[name]
        call(case)

    examples()


def test_the_api_holds_to_its_document_under_fuzzing(
    app, client, live_server: str, run_worker, team: Team
) -> None:
    card = send(client, team, "alice", {"cam1/a.jpg": photo(0), "cam1/b.jpg": photo(9)})
    assert card.status_code == 201, card.get_json()
    job = card.get_json()["id"]
    run_worker()
    media = client.get(f"/api/jobs/{job}/media", headers=team.auth("alice")).get_json()["media"]
    fill = {"job_id": job, "project_id": team.p1.id, "media_id": media[0]["id"]}
    headers = {**SCRIPT, **team.auth("alice")}
    schema = schemathesis.openapi.from_dict(load_spec())

    failures: dict[str, str] = {}

    def call(case: Any) -> None:
        try:
            case.call_and_validate(
                base_url=live_server, headers=headers, excluded_checks=[positive_data_acceptance]
            )
        except BaseException as exc:  # noqa: BLE001 - the first finding of each operation, kept
            failures.setdefault(case.operation.label, str(exc)[:1500])

    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document itself is valid
        operations.append(result.ok())
    assert len(operations) == len(documented_operations())
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, fill, call)
            except Unsatisfiable:  # nothing to negate: no parameters and no body
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert not failures, "\n\n".join(f"{op}: {why}" for op, why in failures.items())
