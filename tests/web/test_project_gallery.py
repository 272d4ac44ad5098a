"""The project's gallery page, drawn on the server, with a real worker on both databases: every
card's pictures on one page, its filters and pages, and the same access rule as every project
URL."""

from __future__ import annotations

import re

import pytest

from tests.web.test_teams import upload

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
TILE = re.compile(r'<a class="tile[^"]*" href="/jobs/([^/"]+)#results"')


@BOTH
def test_every_cards_pictures_in_one_gallery(client, team, run_worker) -> None:
    first = upload(client, team.auth("alice"), team.p1.id, n=30)
    second = upload(client, team.auth("alice"), team.p1.id, n=20)
    own = upload(client, team.auth("ulla"), team.p1.id, n=1)
    run_worker()
    url = f"/projects/{team.p1.id}/gallery"
    shown = client.get(url, headers=team.auth("vic")).get_data(as_text=True)
    assert "51 files, page 1 of 2" in shown
    tiles = TILE.findall(shown)
    assert len(tiles) == 48 and set(tiles) == {first, second, own}
    assert shown.count("/thumbnails/") >= 48  # each tile shows its card's own thumbnail
    rest = client.get(f"{url}?page=2", headers=team.auth("vic")).get_data(as_text=True)
    assert len(TILE.findall(rest)) == 3 and 'id="gallery-previous"' in rest
    one = client.get(f"{url}?job={second}&order=uncertain", headers=team.auth("vic"))
    assert set(TILE.findall(one.get_data(as_text=True))) == {second}
    assert "20 files" in one.get_data(as_text=True)
    theirs = client.get(url, headers=team.auth("ulla")).get_data(as_text=True)
    assert TILE.findall(theirs) == [own]  # an uploader: their own card
    assert client.get(f"{url}?outcome=fish", headers=team.auth("vic")).status_code == 400
    assert client.get(url, headers=team.auth("bob")).status_code == 404
    assert client.get(url).status_code == 401  # a script
    browser = client.get(url, headers={"Accept": "text/html"})
    assert browser.status_code == 302 and "/login" in browser.headers["Location"]
    project_page = client.get(f"/projects/{team.p1.id}", headers=team.auth("vic"))
    assert f'href="{url}"' in project_page.get_data(as_text=True)
    # the review page: reviewers and owners only; the page reads the project's API
    review = f"/projects/{team.p1.id}/review"
    page = client.get(review, headers=team.auth("rita"))
    assert page.status_code == 200
    assert f'data-reviews-url="/api/projects/{team.p1.id}/reviews"' in page.get_data(as_text=True)
    assert client.get(review, headers=team.auth("vic")).status_code == 403
    assert client.get(review, headers=team.auth("bob")).status_code == 404
