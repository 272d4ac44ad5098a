"""A project's settings through the site, on both databases: an owner changes them (the API and
the page's form), each value is checked and a refused change keeps everything, other roles
cannot, the audit log says what changed, and a card uploaded into the project gets the
project's defaults where the uploader left a field blank."""

from __future__ import annotations

import io
import zipfile

import pytest

from shared.contract import load_state
from shared.options import JobOptions
from shared.people.errors import PeopleError
from shared.surveys.project_settings import Contributor, ProjectSettings, changed
from tests.camtrap import descriptor, problems
from tests.web.helpers import BURST, SCRIPT, form, photo, zip_of
from tests.web.test_teams import Team

BOTH = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)


def upload(client, team: Team, entries: dict[str, bytes] | None = None, **fields: str) -> str:
    data = {
        **form(files=[(zip_of(entries or {"cam1/0.jpg": photo(0)}), "card.zip")]),
        "project": str(team.p1.id),
        **fields,
    }
    sent = client.post(
        "/api/jobs", data=data, content_type="multipart/form-data", headers=team.auth("alice")
    )
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()["id"]


@BOTH
def test_an_owner_sets_the_survey_and_its_defaults(client, team, redis_conn) -> None:
    url = f"/api/projects/{team.p1.id}"
    body = {
        "description": "Wet season 2027",
        "utc_offset": "+02:00",
        "event_gap": 180,
        "title": "Serra do Mar mammals",
        "contributors": ["Ana Lima <ana@example.org>, principalInvestigator", "Ben Ortiz"],
        "licence": "CC-BY-4.0",
        "sampling_design": "systematicRandom",
        "capture_method": ["activityDetection"],
    }
    made = client.patch(url, json=body, headers=team.auth("alice"))
    assert made.status_code == 200, made.get_json()
    seen = made.get_json()
    assert (seen["utc_offset"], seen["description"]) == ("+02:00", "Wet season 2027")
    assert seen["settings"]["event_gap"] == 180
    assert seen["settings"]["contributors"] == [
        {"title": "Ana Lima", "role": "principalInvestigator", "email": "ana@example.org"},
        {"title": "Ben Ortiz", "role": "contributor"},
    ]
    for bad, says in (
        ({"sampling_design": "random"}, "samplingDesign is one of"),
        ({"contributors": ["Ana, boss"]}, "'boss' is not a contributor role"),
        ({"event_gap": -1}, "event gap"),
        ({"class_set": "nope"}, "no class set named 'nope'"),
        ({"utc_offset": "2"}, "not a UTC offset"),
        ({"licence": "my own licence"}, "not a licence identifier"),
        ({"capture_method": ["camera"]}, "captureMethod"),
        ({"name": ""}, "1-200 characters"),
    ):
        refused = client.patch(url, json={"title": "changed", **bad}, headers=team.auth("alice"))
        assert refused.status_code == 400 and says in refused.get_json()["error"], bad
    kept = client.get(url, headers=team.auth("vic")).get_json()
    assert kept["settings"]["title"] == "Serra do Mar mammals"
    assert client.patch(url, json={"title": "x"}, headers=team.auth("rita")).status_code == 403
    assert client.patch(url, json={"title": "x"}, headers=team.auth("bob")).status_code == 404
    assert client.patch(url, json={"title": "x"}, headers=SCRIPT).status_code == 401
    log = client.get(f"{url}/audit", headers=team.auth("alice")).get_json()["entries"]
    changes = [e for e in log if e["action"] == "settings"]
    assert len(changes) == 1 and "contributors" in changes[0]["detail"]["changed"]

    defaulted = load_state(redis_conn, upload(client, team))
    assert defaulted is not None
    assert (defaulted.options.event_gap, defaulted.options.utc_offset) == (180, "+02:00")
    chosen = load_state(redis_conn, upload(client, team, event_gap="30", utc_offset="-03:00"))
    assert chosen is not None
    assert (chosen.options.event_gap, chosen.options.utc_offset) == (30, "-03:00")
    events = client.get(f"{url}/events", headers=team.auth("alice")).get_json()
    assert events["event_gap"] == 180  # the project's gap, unless the query gives one
    cleared = client.patch(url, json={"event_gap": ""}, headers=team.auth("alice")).get_json()
    assert cleared["settings"]["event_gap"] is None
    events = client.get(f"{url}/events", headers=team.auth("alice")).get_json()
    assert events["event_gap"] == 60


@BOTH
def test_the_page_form_saves_the_settings(client, team) -> None:
    page = f"/projects/{team.p1.id}"
    shown = client.get(page, headers=team.auth("alice")).get_data(as_text=True)
    assert 'id="project-settings"' in shown
    assert 'id="project-settings"' not in client.get(page, headers=team.auth("vic")).get_data(
        as_text=True
    )
    saved = client.post(
        f"{page}/settings",
        data={
            "name": "P1 wet season",
            "description": "",
            "utc_offset": "-05:00",
            "event_gap": "120",
            "deployment_level": "2",
            "class_set": "",
            "title": "Trail cameras",
            "contributors": "Ana Lima <ana@example.org>, contact\r\nBen Ortiz, rightsHolder\r\n",
            "licence": "CC0-1.0",
            "sampling_design": "targeted",
            "capture_method": ["activityDetection", "timeLapse"],
        },
        headers=team.auth("alice"),
    )
    assert saved.status_code == 303
    seen = client.get(f"/api/projects/{team.p1.id}", headers=team.auth("alice")).get_json()
    assert seen["name"] == "P1 wet season"
    assert seen["settings"]["deployment_level"] == 2
    assert seen["settings"]["capture_method"] == ["activityDetection", "timeLapse"]
    assert [c["role"] for c in seen["settings"]["contributors"]] == ["contact", "rightsHolder"]
    again = client.get(page, headers=team.auth("alice")).get_data(as_text=True)
    assert "Ana Lima &lt;ana@example.org&gt;, contact" in again and "Settings saved." in again
    refused = client.post(
        f"{page}/settings", data={"sampling_design": "random"}, headers=team.auth("alice")
    )
    # a script posting the form (a token, not the browser) is answered in JSON
    assert refused.status_code == 400
    assert "samplingDesign is one of" in refused.get_json()["error"]
    after = client.get(f"/api/projects/{team.p1.id}", headers=team.auth("alice")).get_json()
    assert after["settings"]["sampling_design"] == "targeted"


def test_settings_are_checked_and_fill_only_blank_fields() -> None:
    current = ProjectSettings(event_gap=60.0)
    made = changed(current, {"contributors": "Ana <a@b.org>, contact\n\nBen\n"})
    assert made.contributors == (Contributor("Ana", "contact", "a@b.org"), Contributor("Ben"))
    assert made.event_gap == 60.0  # not named: kept
    assert ProjectSettings.from_json(made.to_json()) == made
    with pytest.raises(PeopleError, match="not an email address"):
        changed(current, {"contributors": [{"title": "Ana", "email": "ana"}]})
    with pytest.raises(PeopleError, match="has a name"):
        changed(current, {"contributors": [{"title": " "}]})
    filled = ProjectSettings(event_gap=90.0, deployment_level=2, class_set="birds")
    blank = filled.defaults_for(JobOptions(), "+01:00")
    assert (blank.event_gap, blank.deployment_level, blank.class_set, blank.utc_offset) == (
        90.0,
        2,
        "birds",
        "+01:00",
    )
    given = filled.defaults_for(JobOptions(event_gap=5, utc_offset="+03:00", class_set="x"), "")
    assert (given.event_gap, given.utc_offset, given.class_set) == (5, "+03:00", "x")
    assert ProjectSettings().defaults_for(JobOptions(), "").utc_offset is None


@BOTH
def test_a_cards_camtrap_dp_carries_the_survey(client, team, run_worker, tmp_path) -> None:
    """The project's people, licence and design replace the placeholders, and frictionless still
    accepts the package against the published profile."""
    body = {
        "description": "Wet season 2027.",
        "title": "Serra do Mar mammals",
        "contributors": "Ana Lima <ana@example.org>, principalInvestigator\nBen Ortiz, contact",
        "licence": "CC-BY-4.0",
        "sampling_design": "targeted",
        "capture_method": ["activityDetection", "timeLapse"],
    }
    assert (
        client.patch(f"/api/projects/{team.p1.id}", json=body, headers=team.auth("alice"))
    ).status_code == 200
    timed = {f"cam1/{p.name}": p.read_bytes() for p in sorted(BURST.glob("*.JPG"))[:1]}
    job_id = upload(
        client, team, timed, deployments="deployment,latitude,longitude\ncam1,-23.4,-45.1\n"
    )
    plain = client.post(
        "/api/jobs",
        data={
            **form(files=[(zip_of(timed), "card.zip")]),
            "deployments": "deployment,latitude,longitude\ncam1,-23.4,-45.1\n",
        },
        content_type="multipart/form-data",
        headers=SCRIPT,
    ).get_json()["id"]  # an Inbox upload: no project, so the stated defaults
    run_worker()
    ours = package_of(client, job_id, tmp_path / "ours", team.auth("alice"))
    assert problems(ours) == []
    said = descriptor(ours)
    assert said["title"] == "Serra do Mar mammals" == said["project"]["title"]
    assert said["project"]["id"] == str(team.p1.id)
    assert said["contributors"] == [
        {"title": "Ana Lima", "role": "principalInvestigator", "email": "ana@example.org"},
        {"title": "Ben Ortiz", "role": "contact"},
    ]
    assert said["licenses"] == [
        {"name": "CC-BY-4.0", "scope": "data"},
        {"name": "CC-BY-4.0", "scope": "media"},
    ]
    assert said["project"]["samplingDesign"] == "targeted"
    assert said["project"]["captureMethod"] == ["activityDetection", "timeLapse"]
    assert said["description"].startswith("Wet season 2027. ")
    assert "defaults to check" not in said["description"]
    theirs = package_of(client, plain, tmp_path / "theirs", SCRIPT)
    assert problems(theirs) == []
    default = descriptor(theirs)
    assert "licenses" not in default and default["project"]["samplingDesign"] == "opportunistic"
    assert (
        "(title, contributors, samplingDesign, captureMethod) are defaults"
        in (default["description"])
    )


def package_of(client, job_id: str, into, headers: dict[str, str]):
    with client.get(f"/download/{job_id}", headers=headers) as response:
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.data)) as z:
            z.extractall(into)
    return into / "camtrap-dp"
