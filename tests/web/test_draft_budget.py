"""Drafts cannot fill the disk: each address has a daily byte budget whether or not its drafts
are ever sent, parallel first chunks cannot overshoot a draft's quota, and a chunk that would
leave the data folder under its free-space floor is refused before anything is written."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from shared.settings import Settings
from tests.conftest import open_site, pinned_clock
from tests.web.helpers import page_fields, photo, send_chunks
from web import drafts
from web.errors import Refusal


def site(settings: Settings, **overrides):
    return open_site(settings.with_overrides(**overrides), {"TRAPLINE_CLOCK": pinned_clock})


def test_an_address_has_a_daily_draft_budget_sent_or_not(settings, redis_conn) -> None:
    picture = photo()
    app = site(settings, draft_bytes_per_day_per_ip=len(picture) * 2 + 10)
    client = app.test_client()
    fields = page_fields(client)
    for n in range(2):
        done = send_chunks(
            client, fields, picture, f"a{n}.jpg", uuid=f"{n:08d}-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
        )
        assert done.status_code == 200 and done.get_json()["name"] == f"a{n}.jpg"
    # a fresh page, a fresh draft: the budget is the address's, not the draft's
    refused = send_chunks(client, page_fields(client), picture, "c.jpg")
    assert refused.status_code == 429 and "GB a day" in refused.get_json()["error"]
    assert int(refused.headers["Retry-After"]) > 0
    other = app.test_client()  # another address still has its own budget
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert send_chunks(other, page_fields(other), picture, "d.jpg").status_code == 200


def test_a_chunk_under_the_free_space_floor_is_refused_before_writing(settings, redis_conn) -> None:
    app = site(settings, min_free_bytes=10**18)  # more than any disk has free
    client = app.test_client()
    fields = page_fields(client)
    refused = send_chunks(client, fields, photo(), "a.jpg")
    assert refused.status_code == 507 and "disk space" in refused.get_json()["error"]
    folder = settings.data_dir / "drafts" / fields["draft"]
    assert drafts.used_bytes(folder) == 0 and drafts.finished_files(folder) == []


def test_parallel_first_chunks_cannot_overshoot_the_quota(tmp_path: Path) -> None:
    folder = tmp_path / "draft"
    folder.mkdir()
    start = threading.Barrier(8)
    outcomes: list[str] = []
    inside, second = threading.Lock(), threading.Event()
    arrived: list[int] = []

    def reserve(size: int) -> None:
        """Holds the first file between its quota check and its count until a second file is
        between them too: with the draft's lock none ever is, and the wait lapses harmlessly;
        without it, every file checked before any was counted would get through."""
        with inside:
            arrived.append(size)
            if len(arrived) > 1:
                second.set()
        second.wait(timeout=0.5)

    def first_chunk(n: int) -> None:
        chunk = drafts.Chunk(f"{n:08d}-bbbb-4bbb-8bbb-bbbbbbbbbbbb", 0, 2, 0, 600, f"f{n}.jpg", "")
        start.wait()
        try:
            drafts.write_chunk(
                folder, chunk, io.BytesIO(b"x" * 300), 300, limit=1000, reserve=reserve
            )
            outcomes.append("taken")
        except Refusal as exc:
            outcomes.append(f"refused {exc.status}")

    threads = [threading.Thread(target=first_chunk, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused 413"] * 7 + ["taken"]
    assert drafts.used_bytes(folder) == 600  # one 600-byte file counted, under the 1000 limit
    assert arrived == [600]  # and only that one was counted against the address
