"""The patience of through_outage, on a clock the test moves: an outage shorter than the
patience is waited out, a longer one ends in its last error, and SQLite's errors (a file, not a
server that restarts) are raised at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from model_server.pipeline.store_outage import through_outage

POSTGRES = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected


class Outage:
    """Raises a connection error while the clock is before `until`; each call moves the clock
    on by the wait the caller would have slept."""

    def __init__(self, until: float) -> None:
        self.now, self.until, self.calls = 0.0, until, 0

    def clock(self) -> float:
        return self.now

    def __call__(self) -> str:
        self.calls += 1
        if self.now < self.until:
            self.now += min(0.5 * 2 ** (self.calls - 1), 10.0)
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return "stored"


def woken() -> threading.Event:
    event = threading.Event()
    event.set()  # no real waiting in a test
    return event


def test_an_outage_within_patience_is_waited_out() -> None:
    outage = Outage(until=25.0)
    found = through_outage(
        POSTGRES, outage, what="storing", patience=120, wake=woken(), clock=outage.clock
    )
    assert found == "stored" and outage.calls > 3


def test_an_outage_past_patience_raises_its_error() -> None:
    outage = Outage(until=1_000.0)
    with pytest.raises(OperationalError, match="server closed"):
        through_outage(
            POSTGRES, outage, what="storing", patience=30, wake=woken(), clock=outage.clock
        )
    assert 30 <= outage.now <= 45


def test_sqlite_errors_are_raised_at_once(tmp_path) -> None:
    outage = Outage(until=1.0)
    sqlite = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(OperationalError):
        through_outage(
            sqlite, outage, what="storing", patience=120, wake=woken(), clock=outage.clock
        )
    assert outage.calls == 1
