"""A job a model server has just taken, before it stored its first row, answers 409 "no results
yet" on its result routes, as a queued job does, not 404 "there is nothing here" (issue 33,
item 17): a script polling right after its upload must not be told the job does not exist."""

from __future__ import annotations

import pytest

from shared.contract import create_state
from shared.job_record import JobState, JobStatus
from shared.storage import new_job_id

ROUTES = ("media", "summary", "events", "evaluation")


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.PROCESSING])
def test_a_job_without_stored_rows_yet_is_409_on_every_result_route(
    client, redis_conn, status: JobStatus
) -> None:
    state = create_state(redis_conn, JobState(id=new_job_id(), status=status))
    for route in ROUTES:
        with client.get(f"/api/jobs/{state.id}/{route}") as answer:
            assert answer.status_code == 409, (route, answer.get_data(as_text=True)[:200])
            assert answer.get_json()["error"].startswith("No results yet")


def test_a_job_nobody_made_is_404(client) -> None:
    for route in ROUTES:
        with client.get(f"/api/jobs/{new_job_id()}/{route}") as answer:
            assert answer.status_code == 404, route
