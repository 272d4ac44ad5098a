"""Fixtures the site's tests share."""

from __future__ import annotations

import pytest

from tests.web.test_teams import Team


@pytest.fixture
def team(app) -> Team:
    """alice owns P1 (vic views it, ulla uploads to it, rita reviews it); bob owns P2 only."""
    return Team(app)
