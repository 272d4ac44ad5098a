"""Password hashes: argon2id through argon2-cffi, with its default (RFC 9106 low-memory)
parameters. A hash made with older parameters is upgraded on the next successful login."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.people.errors import PeopleError

MIN_LENGTH = 12


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def check_strength(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PeopleError(f"A password has at least {MIN_LENGTH} characters.")
    if len(password) > 1024:
        raise PeopleError("A password has at most 1024 characters.")
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_strength(password))


def verify(stored: str, password: str) -> bool:
    """True when `password` matches `stored`; an empty or unreadable hash never matches."""
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)


@cache
def dummy_hash() -> str:
    """Verified against when the user name is unknown, so that a login takes as long whether
    the name exists or not."""
    return _hasher().hash("not-a-password-anyone-has")
