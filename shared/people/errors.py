"""What the people layer refuses, with a message a person can act on."""

from __future__ import annotations

from shared.errors import TraplineError


class PeopleError(TraplineError, ValueError):
    """A user, token, project or membership refused (bad name, unknown user, weak password...)."""
