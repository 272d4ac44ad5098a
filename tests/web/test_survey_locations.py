"""A survey's cameras through the site, with a real worker, on both databases: two cards of one
camera and a second camera make 2 locations, not 3; a location registered first lends its
coordinates to every card uploaded for it; periods can be corrected; roles hold."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shared.contract import load_state
from shared.events.model import Deployment
from shared.store.schema import deployment_periods, media
from shared.surveys.locations import Location
from shared.surveys.periods import match_location
from tests.conftest import DATA
from tests.web.helpers import BURST, form, zip_of
from tests.web.test_teams import Team
from web import resources

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
PHOTOS = sorted(BURST.glob("*.JPG"))
OTHER = DATA / "camera-trap" / "animl-southwest" / "B013_IMG_0005_empty.jpeg"  # 52 kB


def send(client, team: Team, who: str, entries: dict[str, bytes], **fields: str):
    data = {**form(files=[(zip_of(entries), "card.zip")]), "project": str(team.p1.id), **fields}
    return client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=team.auth(who)
    )


def two_cards(client, team: Team) -> tuple[str, str]:
    """alice's two cards into P1: StationC's burst split across them, B013 on the first."""
    first = send(
        client,
        team,
        "alice",
        {
            f"StationC/{PHOTOS[0].name}": PHOTOS[0].read_bytes(),
            f"B013/{OTHER.name}": OTHER.read_bytes(),
        },
    )
    second = send(client, team, "alice", {f"StationC/{p.name}": p.read_bytes() for p in PHOTOS[1:]})
    assert first.status_code == second.status_code == 201
    return first.get_json()["id"], second.get_json()["id"]


@BOTH
def test_two_cards_of_one_camera_are_one_location(app, client, team, run_worker) -> None:
    first_id, second_id = two_cards(client, team)
    run_worker()
    listed = client.get(f"/api/projects/{team.p1.id}/deployments", headers=team.auth("vic"))
    locations = {loc["name"]: loc for loc in listed.get_json()["locations"]}
    assert sorted(locations) == ["B013", "StationC"]
    periods = locations["StationC"]["periods"]
    assert [(p["job"], p["media"]) for p in periods] == [
        (first_id, 1),
        (second_id, 2),
    ]
    assert [p["start"] for p in periods] == ["2009-04-11T21:44:00", "2009-04-11T21:46:00"]
    assert len(locations["B013"]["periods"]) == 1
    # asking again matches nothing twice
    again = client.get(f"/api/projects/{team.p1.id}/deployments", headers=team.auth("alice"))
    assert again.get_json()["locations"] == listed.get_json()["locations"]
    assert (
        client.get(f"/api/projects/{team.p1.id}/deployments", headers=team.auth("bob")).status_code
        == 404
    )
    check_events_span_cards(client, team, first_id, second_id)
    check_period_filters(client, team, app, locations)
    check_season_insights(client, team)
    given = client.post(
        f"/api/jobs/{first_id}/deployments",
        json={"places": {"B013": [31.9, -110.8]}},
        headers=team.auth("alice"),
    )
    assert given.status_code == 202, given.get_json()
    log = client.get(f"/api/projects/{team.p1.id}/audit", headers=team.auth("alice")).get_json()
    assert log["entries"][0]["action"] == "coordinates"
    assert log["entries"][0]["detail"]["deployments"] == 1


def check_period_filters(client, team: Team, app, locations: dict) -> None:
    """The project's media and gallery by location (every card of one camera) and by
    deployment period (one card of it); a period made before media named their period
    (migration 0009) is linked when next read."""
    url = f"/api/projects/{team.p1.id}/media"
    station, b013 = locations["StationC"], locations["B013"]

    def paths(query: str, who: str = "vic") -> list[str]:
        got = client.get(f"{url}?order=path&{query}", headers=team.auth(who))
        assert got.status_code == 200, got.get_json()
        return sorted(m["path"] for m in got.get_json()["media"])

    assert paths(f"location={station['id']}") == [f"StationC/{p.name}" for p in PHOTOS]
    first, second = station["periods"]
    assert paths(f"period={first['id']}") == [f"StationC/{PHOTOS[0].name}"]
    assert len(paths(f"period={second['id']}&outcome=animal")) <= 2
    assert paths(f"location={station['id']}&period={b013['periods'][0]['id']}") == []
    assert paths(f"location={b013['id']}") == [f"B013/{OTHER.name}"]
    for bad in ("period=999999", "location=999999", "period=x"):
        assert client.get(f"{url}?{bad}", headers=team.auth("vic")).status_code == 400
    assert client.get(f"{url}?period={first['id']}", headers=team.auth("bob")).status_code == 404
    with app.app_context():
        engine = resources.results_store()
        with engine.begin() as conn:  # as a database upgraded from 0008 holds them
            conn.execute(update(media).values(period_id=None))
            conn.execute(update(deployment_periods).values(linked=False))
    assert paths(f"location={station['id']}") == [f"StationC/{p.name}" for p in PHOTOS]
    page = client.get(
        f"/projects/{team.p1.id}/gallery?location={station['id']}", headers=team.auth("vic")
    ).get_data(as_text=True)
    assert "3 files" in page and f'<option value="{first["id"]}"' in page


def check_season_insights(client, team: Team) -> None:
    url = f"/api/projects/{team.p1.id}/insights"
    seen = client.get(url, headers=team.auth("vic")).get_json()
    by_name = {loc["name"]: loc for loc in seen["locations"]}
    station = by_name["StationC"]
    assert (station["cards"], station["images"]) == (2, 3)
    assert (station["first"], station["last"]) == ("2009-04-11T21:44:00", "2009-04-11T21:46:00")
    assert station["detections"] == station["animal"] + station["person"] + station["vehicle"]
    assert by_name["B013"]["images"] == 1
    at_night = next(h for h in seen["hours"] if h["hour"] == 21)
    assert len(seen["hours"]) == 24 and at_night["images"] >= 3
    april = next(d for d in seen["days"]["rows"] if d["day"] == "2009-04-11")
    assert april["images"] >= 3
    theirs = client.get(url, headers=team.auth("ulla")).get_json()
    assert theirs["locations"] == [] and sum(h["images"] for h in theirs["hours"]) == 0
    assert client.get(url, headers=team.auth("bob")).status_code == 404
    charts = f"/projects/{team.p1.id}/charts"
    days = client.get(f"{charts}/days.svg", headers=team.auth("vic"))
    assert days.status_code == 200 and days.mimetype == "image/svg+xml"
    assert "in 2009" in days.get_data(as_text=True)  # the season's span, from both cards
    hours = client.get(f"{charts}/hours.svg", headers=team.auth("vic"))
    assert hours.status_code == 200 and "Detections by hour of day" in hours.get_data(as_text=True)
    drawn = client.get(f"{charts}/map.svg", headers=team.auth("vic")).get_data(as_text=True)
    assert "StationC" in drawn and "B013" in drawn
    assert client.get(f"{charts}/pie.svg", headers=team.auth("vic")).status_code == 404
    assert client.get(f"{charts}/days.svg", headers=team.auth("bob")).status_code == 404


def check_events_span_cards(client, team: Team, first: str, second: str) -> None:
    """StationC's burst is 21:44 on card 1 and 21:46 (twice) on card 2: with a 3-minute gap it is
    one event of both cards, though each card's own events stop at its edge."""
    url = f"/api/projects/{team.p1.id}/events"
    wide = client.get(f"{url}?event_gap=180", headers=team.auth("vic")).get_json()
    station = [e for e in wide["events"] if e["location"] == "StationC"]
    assert len(station) == 1 and station[0]["cards"] == 2
    assert [f["job"] for f in station[0]["files"]] == [first, second, second]
    assert [f["path"] for f in station[0]["files"]] == [f"StationC/{p.name}" for p in PHOTOS]
    assert (
        station[0]["start"] == "2009-04-11T21:44:00" and station[0]["end"] == "2009-04-11T21:46:00"
    )
    by_name = {loc["name"]: loc for loc in wide["locations"]}
    assert (by_name["StationC"]["cards"], by_name["StationC"]["files"]) == (2, 3)
    assert (by_name["B013"]["cards"], by_name["B013"]["events"]) == (1, 1)
    per_card = [
        client.get(f"/api/jobs/{job}/events?event_gap=180", headers=team.auth("vic")).get_json()
        for job in (first, second)
    ]
    assert [
        len([e for e in card["events"] if e["deployment"] == "StationC"]) for card in per_card
    ] == [1, 1]
    narrow = client.get(url, headers=team.auth("vic")).get_json()  # the default gap, 60 s
    assert narrow["event_gap"] == 60
    assert [len(e["files"]) for e in narrow["events"] if e["location"] == "StationC"] == [1, 2]
    assert client.get(f"{url}?event_gap=-1", headers=team.auth("vic")).status_code == 400
    assert client.get(url, headers=team.auth("bob")).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(url, headers=team.auth("ulla")).get_json()["events"] == []  # not her cards
    page = f"/projects/{team.p1.id}/events"
    shown = client.get(f"{page}?event_gap=180&location=StationC", headers=team.auth("vic"))
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "1 event" in html
    assert f'data-event="{station[0]["id"]}" data-cards="2"' in html  # one event, both cards
    assert html.count("<tr data-event=") == 1
    every = client.get(page, headers=team.auth("vic")).get_data(as_text=True)
    assert every.count("<tr data-event=") == len(narrow["events"])
    assert client.get(page, headers=team.auth("bob")).status_code == 404
    assert client.get(f"{page}?event_gap=-1", headers=team.auth("vic")).status_code == 400


@BOTH
def test_a_registered_location_lends_its_coordinates(client, team, run_worker, redis_conn) -> None:
    url = f"/api/projects/{team.p1.id}/deployments"
    body = {"name": "StationC", "latitude": -22.91, "longitude": -43.17, "camera_height": 0.5}
    assert client.post(url, json=body, headers=team.auth("rita")).status_code == 403
    made = client.post(url, json=body, headers=team.auth("alice"))
    assert made.status_code == 201 and made.get_json()["camera_height"] == 0.5
    assert client.post(url, json=body, headers=team.auth("alice")).status_code == 409
    unknown = send(
        client, team, "alice", {PHOTOS[0].name: PHOTOS[0].read_bytes()}, deployment="Nowhere"
    )
    assert (
        unknown.status_code == 400 and "no location called 'Nowhere'" in unknown.get_json()["error"]
    )
    sent = send(
        client, team, "alice", {p.name: p.read_bytes() for p in PHOTOS}, deployment="StationC"
    )
    assert sent.status_code == 201
    job_id = sent.get_json()["id"]
    state = load_state(redis_conn, job_id)
    assert state is not None and dict(state.options.places) == {"(top level)": (-22.91, -43.17)}
    run_worker()
    (location,) = client.get(url, headers=team.auth("alice")).get_json()["locations"]
    assert location["name"] == "StationC" and len(location["periods"]) == 1
    period = location["periods"][0]
    edit = f"/api/projects/{team.p1.id}/periods/{period['id']}"
    backwards = client.post(
        edit,
        json={"start": "2009-04-12T00:00:00", "end": "2009-04-11T00:00:00"},
        headers=team.auth("alice"),
    )
    assert backwards.status_code == 400
    fixed = client.post(
        edit,
        json={"start": "2009-04-10T12:00:00", "end": period["end"]},
        headers=team.auth("alice"),
    )
    assert fixed.status_code == 200
    (location,) = client.get(url, headers=team.auth("alice")).get_json()["locations"]
    assert (
        location["periods"][0]["start"] == "2009-04-10T12:00:00"
        and location["periods"][0]["edited"]
    )
    assert (
        client.post(
            f"/api/projects/{team.p2.id}/periods/{period['id']}", json={}, headers=team.auth("bob")
        ).status_code
        == 404
    )


def test_a_deployment_is_matched_by_choice_then_serial_then_folder() -> None:
    def loc(i: int, name: str, serial: str = "") -> Location:
        return Location(i, 1, name, None, None, serial, "", None, "", "")

    known = [loc(1, "North gate", "SN-1"), loc(2, "river")]
    by_serial = Deployment("cam-a", "cam-a", "SN-1")
    assert match_location(by_serial, None, known, "job") == known[0]
    assert match_location(by_serial, 2, known, "job") == known[1]
    assert (
        match_location(Deployment("2027/river", "2027/river", ""), None, known, "job") == known[1]
    )
    assert match_location(Deployment("new", "new", "SN-9"), None, known, "job") == "new"
    loose = Deployment("(top level)", "", "")
    assert match_location(loose, None, known, "abcdefgh1234") == "Card abcdefgh"
