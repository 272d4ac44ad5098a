"""Job ids: 32 URL-safe characters that never start with `-` (found by the project export test:
a card whose id began `-` had every Camtrap DP `filePath` escaped as a formula, `'-9hB…`, so the
package named no real file)."""

from __future__ import annotations

from shared.storage import is_job_id, new_job_id


def test_new_ids_start_with_a_letter_or_digit() -> None:
    ids = [new_job_id() for _ in range(5_000)]  # drawn as before, ~156 would start `-` or `_`
    assert all(is_job_id(i) for i in ids)
    assert not [i for i in ids if not i[0].isalnum()]
    assert len(set(ids)) == len(ids)


def test_ids_made_before_still_name_their_jobs() -> None:
    assert is_job_id("-9hBucev69abcdefghijklmnopqrstuv")
