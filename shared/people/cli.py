"""`trapline-admin`: accounts from the command line, on the machine that runs the site (it reads
the same TRAPLINE_* settings, so it reaches the same database).

    trapline-admin create-user NAME --email E [--site-admin] [--password-stdin]
    trapline-admin create-token NAME [--label LABEL]
    trapline-admin revoke-token NAME TOKEN_ID
    trapline-admin reset-password NAME       (prints a one-time link, for a site with no email)
    trapline-admin list-users
    trapline-admin deactivate NAME | activate NAME

A user made without --password-stdin gets a generated password, printed once: they change it on
their account page.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import Engine

from shared.people import resets, tokens, users
from shared.people.errors import PeopleError
from shared.settings import Settings, settings_for_command
from shared.store import open_configured_store

log = logging.getLogger("trapline.admin")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trapline-admin", description="Trapline accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="make an account")
    create.add_argument("name")
    create.add_argument("--email", required=True)
    create.add_argument("--site-admin", action="store_true", help="may administer the whole site")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    token = commands.add_parser("create-token", help="make an API token for scripts")
    token.add_argument("name", help="the user the token acts as")
    token.add_argument("--label", default="command line", help="what the token is for")
    revoke = commands.add_parser("revoke-token", help="stop a token working")
    revoke.add_argument("name")
    revoke.add_argument("token_id", type=int)
    reset = commands.add_parser("reset-password", help="print a one-time password link")
    reset.add_argument("name")
    commands.add_parser("list-users", help="every account")
    for verb in ("deactivate", "activate"):
        commands.add_parser(verb, help=f"{verb} an account").add_argument("name")
    return parser


def _user(engine: Engine, name: str) -> users.User:
    found = users.user_by_name(engine, name)
    if found is None:
        raise PeopleError(f"There is no user called {name!r} (see `trapline-admin list-users`).")
    return found


def run(
    args: argparse.Namespace,
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    stdin: TextIO,
    out: Callable[[str], None],
) -> None:
    if args.command == "create-user":
        password = stdin.readline().rstrip("\n") if args.password_stdin else None
        generated = password is None
        password = password if password is not None else secrets.token_urlsafe(15)
        user = users.create_user(
            engine, args.name, args.email, password, now=now, site_admin=args.site_admin
        )
        kind = "site admin" if user.site_admin else "user"
        out(f"created {kind} {user.name} (id {user.id})")
        if generated:
            out(f"password (shown once; change it on the account page): {password}")
    elif args.command == "create-token":
        user = _user(engine, args.name)
        token, record = tokens.create_token(engine, user.id, args.label, now=now)
        out(f"token {record.id} for {user.name} ({record.name}), shown once:")
        out(token)
    elif args.command == "revoke-token":
        user = _user(engine, args.name)
        if not tokens.revoke_token(engine, user.id, args.token_id, now=now):
            raise PeopleError(f"{user.name} has no live token {args.token_id}.")
        out(f"token {args.token_id} of {user.name} revoked")
    elif args.command == "reset-password":
        user = _user(engine, args.name)
        code = resets.issue_reset(engine, user.id, now=now)
        base = settings.public_url or "http://<this site>"
        out(f"one-time link for {user.name}, valid {resets.LIFETIME.days} days:")
        out(f"{base}/reset/{code}")
    elif args.command == "list-users":
        for user in users.all_users(engine):
            flags = [
                f
                for f, on in (("site admin", user.site_admin), ("inactive", not user.active))
                if on
            ]
            out(f"{user.id}\t{user.name}\t{user.email}\t{', '.join(flags)}")
    else:
        user = _user(engine, args.name)
        users.set_active(engine, user.id, args.command == "activate")
        out(f"{user.name} {args.command}d")


def main(
    argv: list[str] | None = None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    stdin: TextIO = sys.stdin,
) -> int:
    args = _parser().parse_args(argv)
    # stdout carries only what the command prints (a token, a link): logs go to stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
    settings = settings_for_command(log)
    if settings is None:
        return 2
    engine = open_configured_store(settings)
    try:
        run(args, engine, settings, now=now(), stdin=stdin, out=print)
    except PeopleError as exc:
        print(f"trapline-admin: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
