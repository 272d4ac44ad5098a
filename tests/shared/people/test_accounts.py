"""Accounts, API tokens and one-time password links, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shared.people import resets, tokens, users
from shared.people.errors import PeopleError
from shared.store.schema import api_tokens
from shared.store.schema import users as users_table

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def test_a_user_logs_in_with_their_password_only(store) -> None:
    made = users.create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    assert users.authenticate(store, "alice", PASSWORD) == made
    assert users.authenticate(store, "alice", PASSWORD + "!") is None
    assert users.authenticate(store, "mallory", PASSWORD) is None
    with store.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_names_passwords_and_emails_are_checked(store) -> None:
    users.create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    with pytest.raises(PeopleError, match="already a user called 'alice'"):
        users.create_user(store, "alice", "other@example.org", PASSWORD, now=NOW)
    with pytest.raises(PeopleError, match="at least 12 characters"):
        users.create_user(store, "bob", "bob@example.org", "short", now=NOW)
    with pytest.raises(PeopleError, match="cannot be a user name"):
        users.create_user(store, "bob smith", "bob@example.org", PASSWORD, now=NOW)
    with pytest.raises(PeopleError, match="not an email address"):
        users.create_user(store, "bob", "bob.example.org", PASSWORD, now=NOW)
    assert [u.name for u in users.all_users(store)] == ["alice"]


def test_an_inactive_account_cannot_log_in_and_its_tokens_stop(store) -> None:
    alice = users.create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    token, _ = tokens.create_token(store, alice.id, "nightly sync", now=NOW)
    users.set_active(store, alice.id, False)
    assert users.authenticate(store, "alice", PASSWORD) is None
    assert tokens.user_for_token(store, token, now=NOW) is None


def test_a_password_change_changes_the_session_stamp(store) -> None:
    alice = users.create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    users.set_password(store, alice.id, "another long password", now=NOW + timedelta(seconds=1))
    changed = users.user_by_id(store, alice.id)
    assert changed is not None and changed.session_stamp != alice.session_stamp
    assert users.authenticate(store, "alice", PASSWORD) is None
    assert users.authenticate(store, "alice", "another long password") == changed


def test_a_token_is_stored_as_its_digest_and_can_be_revoked(store) -> None:
    alice = users.create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    token, record = tokens.create_token(store, alice.id, "camera sync", now=NOW)
    assert token.startswith("trp_") and len(token) > 40
    with store.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert row.digest == tokens.digest(token) and token not in repr(tuple(row))
    later = NOW + timedelta(hours=2)
    assert tokens.user_for_token(store, token, now=later) == alice
    assert tokens.user_for_token(store, token + "x", now=later) is None
    (listed,) = tokens.tokens_of(store, alice.id)
    assert listed.last_used_at == later and listed.prefix == record.prefix == token[:10]
    assert tokens.revoke_token(store, alice.id, record.id, now=later)
    assert not tokens.revoke_token(store, alice.id, record.id, now=later)
    assert tokens.user_for_token(store, token, now=later) is None
    assert tokens.tokens_of(store, alice.id)[0].public()["revoked"] is True


def test_someone_elses_token_cannot_be_revoked(store) -> None:
    alice = users.create_user(store, "alice", "alice@example.org", PASSWORD, now=NOW)
    bob = users.create_user(store, "bob", "bob@example.org", PASSWORD, now=NOW)
    token, record = tokens.create_token(store, alice.id, "sync", now=NOW)
    assert not tokens.revoke_token(store, bob.id, record.id, now=NOW)
    assert tokens.user_for_token(store, token, now=NOW) == alice


def test_a_reset_link_works_once_and_expires(store) -> None:
    bob = users.create_user(store, "bob", "bob@example.org", None, now=NOW)
    assert users.authenticate(store, "bob", "") is None  # no password until the link is used
    code = resets.issue_reset(store, bob.id, now=NOW)
    assert resets.reset_user(store, code) == bob
    done = resets.use_reset(store, code, "bob's own passphrase", now=NOW + timedelta(hours=1))
    assert users.authenticate(store, "bob", "bob's own passphrase") == done
    with pytest.raises(PeopleError, match="has been used, has expired"):
        resets.use_reset(store, code, "a second passphrase", now=NOW + timedelta(hours=2))
    late = resets.issue_reset(store, bob.id, now=NOW)
    with pytest.raises(PeopleError, match="has been used, has expired"):
        resets.use_reset(store, late, "too late passphrase", now=NOW + resets.LIFETIME)


def test_a_new_reset_link_ends_the_earlier_one(store) -> None:
    bob = users.create_user(store, "bob", "bob@example.org", None, now=NOW)
    first = resets.issue_reset(store, bob.id, now=NOW)
    second = resets.issue_reset(store, bob.id, now=NOW)
    assert resets.reset_user(store, first) is None
    with pytest.raises(PeopleError):
        resets.use_reset(store, first, "bob's own passphrase", now=NOW)
    resets.use_reset(store, second, "bob's own passphrase", now=NOW)
