"""What each role in a project may do. Checked on the server for every request that reads or
changes a project's data (`web/access.py`); a site admin may do everything everywhere."""

from __future__ import annotations

from enum import Enum


class Can(str, Enum):
    READ = "read"  # see and download everything of the project
    READ_OWN = "read_own"  # see the uploads one made oneself
    UPLOAD = "upload"
    REVIEW = "review"  # review, bulk actions, thresholds, classify, learn, export
    MANAGE = "manage"  # members, settings, moving and deleting uploads


class Role(str, Enum):
    OWNER = "owner"
    REVIEWER = "reviewer"
    UPLOADER = "uploader"
    VIEWER = "viewer"

    @property
    def can(self) -> frozenset[Can]:
        return ALLOWED[self]


ALLOWED: dict[Role, frozenset[Can]] = {
    Role.OWNER: frozenset(Can),
    Role.REVIEWER: frozenset({Can.READ, Can.READ_OWN, Can.REVIEW}),
    Role.UPLOADER: frozenset({Can.READ_OWN, Can.UPLOAD}),
    Role.VIEWER: frozenset({Can.READ, Can.READ_OWN}),
}


def parse_role(raw: str) -> Role:
    from shared.people.errors import PeopleError

    try:
        return Role(raw.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise PeopleError(f"{raw!r} is not a role; a member is one of {names}.") from None
