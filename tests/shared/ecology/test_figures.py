"""The ecology figures against values worked by hand: trap nights with a person's gap and a
silence found, relative abundance, a detection history with NA occasions, sun times against a
published sunrise table, and the overlap coefficient against its formula."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from shared.ecology.abundance import SURVEY, abundance
from shared.ecology.activity import overlap
from shared.ecology.effort import Gap, Span, location_effort, silent_gaps
from shared.ecology.histories import detection_history, history_csv_rows
from shared.ecology.records import Detection, event_species
from shared.ecology.sun import camera_zone, sun_day, sun_hours
from shared.events.model import Event, EventTag


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute)


# Location A works 1-15 June less a person's 2-day gap (5-7 June): 12 trap nights.
# Location B works 1 June 12:00 to 14 June 12:00 (13 days), but is silent 2-10 June while A has
# files: a found gap of 8 days, so 5 trap nights.
A_FILES = [at(1, 22), at(4, 10), at(6, 1), at(8, 22), at(12, 6)]
B_FILES = [at(1, 12), at(2, 12), at(10, 12), at(14, 12)]
SPANS = {1: [Span(at(1), at(15))], 2: [Span(at(1, 12), at(14, 12))]}
PERSON = Gap(at(5), at(7), "knocked over", "rita", 7)
DETECTIONS = [
    Detection(1, at(1, 22), "fox", 1, "reviewed"),
    Detection(1, at(6, 1), "fox", 2, "reviewed"),  # inside the person's gap: not counted
    Detection(1, at(8, 22), "fox", 1, "machine"),
    Detection(1, at(12, 6), "deer", 3, "suggested"),
    Detection(2, at(2, 12), "fox", 1, "reviewed"),
]


def efforts():
    found = silent_gaps({1: A_FILES, 2: B_FILES}, SPANS, silent_days=7)
    return {
        1: location_effort(1, "A", SPANS[1], [PERSON, *found.get(1, [])]),
        2: location_effort(2, "B", SPANS[2], found.get(2, [])),
    }


def test_trap_nights_leave_out_a_persons_gap_and_a_silence_while_others_recorded() -> None:
    effort = efforts()
    assert effort[1].days == pytest.approx(12)
    assert [(g.start, g.end, g.reason) for g in effort[2].gaps] == [
        (at(2, 12), at(10, 12), "silent")
    ]
    assert effort[2].days == pytest.approx(5)
    # a silence with nobody else recording is the animals', not the camera's
    alone = silent_gaps({2: B_FILES}, {2: SPANS[2]}, silent_days=7)
    assert alone == {}
    # a silence shorter than the setting is no gap
    assert silent_gaps({1: A_FILES, 2: B_FILES}, SPANS, silent_days=9) == {}


def test_relative_abundance_is_events_per_100_trap_nights() -> None:
    rows = {(r.location, r.species): r for r in abundance(DETECTIONS, efforts())}
    assert rows[("A", "fox")].events == 2  # the one in the gap does not count
    assert rows[("A", "fox")].rai == pytest.approx(100 * 2 / 12)
    assert rows[("B", "fox")].rai == pytest.approx(100 * 1 / 5)
    assert rows[(SURVEY, "fox")].rai == pytest.approx(100 * 3 / 17)
    assert rows[("A", "deer")].individuals == 3
    assert rows[("B", "deer")].events == 0 and rows[("B", "deer")].rai == 0


def test_a_detection_history_has_NA_where_the_camera_worked_too_little() -> None:
    history = detection_history(DETECTIONS, efforts(), "fox", occasion_days=7, min_share=0.5)
    assert history.first == at(1)
    assert history.locations == ["A", "B"]
    # A: occasion 1 worked 4 + 1 days (gap 5-7 June), fox on 1 June; occasion 2 fox on 8 June
    # B: occasion 1 worked 1 day (< 3.5): NA; occasion 2 worked 4 days, no fox: 0
    assert history.detected == [[1, 1], [None, 0]]
    assert history.effort == [[5, 7], [1, 4]]
    assert history_csv_rows(history) == [
        ["location", "o1", "o2"],
        ["A", 1, 1],
        ["B", "NA", 0],
    ]
    strict = detection_history(DETECTIONS, efforts(), "fox", occasion_days=7, min_share=0.9)
    assert strict.detected == [[None, 1], [None, None]]  # 5 and 4 days < 6.3


def test_sun_times_match_a_published_table() -> None:
    """timeanddate.com, London, 21 June 2026: sunrise 04:43, sunset 21:21 (BST, UTC+1)."""
    zone = camera_zone(timedelta(hours=1), -0.1278)
    day = sun_day(51.5074, -0.1278, date(2026, 6, 21), zone)
    assert day.sunrise is not None and day.sunset is not None
    assert abs(day.sunrise - datetime(2026, 6, 21, 4, 43)) <= timedelta(minutes=1)
    assert abs(day.sunset - datetime(2026, 6, 21, 21, 21)) <= timedelta(minutes=1)
    assert sun_hours(day.sunrise, day) == pytest.approx(6)
    assert sun_hours(day.sunset, day) == pytest.approx(18)
    assert sun_hours(datetime(2026, 6, 21), day) == 0
    noon = day.sunrise + (day.sunset - day.sunrise) / 2
    assert sun_hours(noon, day) == pytest.approx(12)
    # without a UTC offset the camera is taken to keep local mean solar time
    assert camera_zone(None, 15.0).utcoffset(None) == timedelta(hours=1)
    # the sun does not set at 78 N in June: no sun time
    polar = sun_day(78.2, 15.6, date(2026, 6, 21), camera_zone(None, 15.6))
    assert sun_hours(datetime(2026, 6, 21, 12), polar) is None


def _i0(x: float) -> float:
    return sum((x / 2) ** (2 * k) / math.factorial(k) ** 2 for k in range(40))


def test_overlap_against_its_formula() -> None:
    """One time each, at 00:00 and 06:00 (a quarter turn apart), kernels of concentration 1."""
    kappa = 1.0
    # Delta4: g/f at f's time and f/g at g's time are both exp(k (cos(pi/2) - 1)) = exp(-1)
    four = overlap([0.0], [6.0], kappa=(kappa, kappa), estimator="Delta4")
    assert four is not None and four.value == pytest.approx(math.exp(-1), abs=1e-9)
    # Delta1: the integral of min(f, g); by symmetry twice f's mass on the half of the circle
    # nearer g (angles pi/4 to 5 pi/4), worked here with the midpoint rule
    steps = 200_000
    width = math.pi / steps
    mass = (
        sum(math.exp(kappa * math.cos(math.pi / 4 + (i + 0.5) * width)) for i in range(steps))
        * width
        / (2 * math.pi * _i0(kappa))
    )
    one = overlap([0.0], [6.0], kappa=(kappa, kappa), estimator="Delta1")
    assert one is not None and one.value == pytest.approx(2 * mass, abs=1e-5)  # a 512-point grid
    # identical samples overlap completely; opposite times barely
    night = [22.0, 23.0, 0.5, 1.0, 2.5, 3.0, 23.5, 21.5]
    day = [10.0, 11.0, 12.5, 13.0, 14.5, 15.0, 11.5, 9.5]
    same = overlap(night, night)
    assert same is not None and same.estimator == "Delta1" and same.value == pytest.approx(1)
    apart = overlap(night, day)
    assert apart is not None and apart.value < 0.1
    assert overlap([1.0], day) is None  # one time has no bandwidth


def test_an_events_species_is_the_review_then_the_suggestion_then_animal() -> None:
    def event(**kw) -> Event:
        base = {"id": "E1", "deployment": "A", "files": ["a.jpg"], "start": at(1), "end": at(1)}
        return Event(**{**base, "maxn": {"animal": 1}, "max_conf": 0.9, **kw})

    tag = EventTag("a.jpg", 1, "Vulpes vulpes", 2, "rita")
    assert event_species(event(tag=tag, species={"Meles meles": 1}), {"x": 3}) == (
        "Vulpes vulpes",
        "reviewed",
    )
    named = event(species={"Meles meles": 2, "Vulpes vulpes": 1})
    assert event_species(named, {"x": 3}) == ("Meles meles", "reviewed")
    assert event_species(event(), {"Sus scrofa": 2, "Meles meles": 1}) == (
        "Sus scrofa",
        "suggested",
    )
    assert event_species(event(), {}) == ("animal", "machine")
    assert event_species(event(maxn={"animal": 0, "person": 1}), {"x": 1}) is None
