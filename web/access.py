"""Who is asking, and what they may do: Flask-Login sessions for people, `Authorization: Bearer`
API tokens for scripts, and the one check every URL naming a job goes through.

A job is reached through its project: in a team's project only its members see it (404 for
everyone else, 401 before logging in), and each role may do what `shared.people.roles` says.
A job in the Inbox (an open upload) or in a project the upgrade made from an old upload keeps its
capability link: whoever has the link may open and review it, as before accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user

from shared.people import tokens
from shared.people.projects import JobPlace, place_of, role_of
from shared.people.roles import Can, Role
from shared.people.users import User, user_by_id
from shared.storage import is_job_id
from web import resources
from web.errors import Refusal, error_response, wants_json

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to see this page."

LOGIN_NEEDED = "Log in first (or send an API token as `Authorization: Bearer <token>`)."
BAD_TOKEN = "This API token is not valid: it was revoked, mistyped, or its account is inactive."


class Account(UserMixin):
    """The logged-in person as Flask-Login sees them; `.user` is the stored account."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}.{self.user.session_stamp}"

    @property
    def is_active(self) -> bool:
        return self.user.active


def now() -> datetime:
    """The site's clock for what it records and checks (tokens, links, the audit log): the
    app's `TRAPLINE_CLOCK`, which tests pin, or the wall clock."""
    clock = current_app.config.get("TRAPLINE_CLOCK")
    return datetime.fromtimestamp(clock(), UTC) if clock else datetime.now(UTC)


def signed_in() -> User | None:
    """The person or script making this request, or None."""
    account = current_user
    return account.user if isinstance(account, Account) else None


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def init_access(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.anonymous_user = AnonymousUserMixin

    @login_manager.user_loader
    def load(raw: str) -> Account | None:
        user_id, _, stamp = raw.partition(".")
        if not user_id.isdigit():
            return None
        user = user_by_id(resources.results_store(), int(user_id))
        # a password change ends every other session: their stamp no longer matches
        if user is None or not user.active or user.session_stamp != stamp:
            return None
        return Account(user)

    @login_manager.request_loader
    def from_token(_request: Any) -> Account | None:
        token = bearer()
        if token is None:
            return None
        user = tokens.user_for_token(resources.results_store(), token, now=now())
        return Account(user) if user is not None else None

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        if wants_json():
            return error_response(401, LOGIN_NEEDED)
        return redirect(url_for("accounts.login", next=request.full_path))

    @app.before_request
    def checks() -> Any:
        if bearer() is not None and signed_in() is None:
            return error_response(401, BAD_TOKEN)
        job_id = (request.view_args or {}).get("job_id")
        if job_id is None or request.blueprint == "admin" or not is_job_id(job_id):
            return None
        return _job_access(job_id)


def _needed() -> Can:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return Can.READ
    if request.endpoint in ("jobs.cancel", "api.cancel"):
        return Can.UPLOAD  # one's own upload; an owner any (below)
    return Can.REVIEW


@dataclass(frozen=True)
class Access:
    place: JobPlace
    role: Role | None  # None: the Inbox, a capability link or a site admin


def allowed(place: JobPlace, user: User | None, role: Role | None, need: Can) -> bool:
    if user is not None and user.site_admin:
        return True
    if role is None:
        return False
    own = user is not None and place.uploader_id == user.id
    if Can.MANAGE in role.can:
        return True
    if need is Can.READ:
        return Can.READ in role.can or (own and Can.READ_OWN in role.can)
    if need is Can.UPLOAD:
        return own and Can.UPLOAD in role.can
    return need in role.can


def _job_access(job_id: str) -> Any:
    place = place_of(resources.results_store(), job_id)
    user = signed_in()
    role = None
    if place.project_id is not None and user is not None:
        role = role_of(resources.results_store(), place.project_id, user.id)
    g.job_access = Access(place, role)
    if place.link_access:
        return None
    if user is None:
        return login_manager.unauthorized()
    if not allowed(place, user, role, _needed()):
        if role is None or not allowed(place, user, role, Can.READ):
            raise Refusal("There is nothing here. Check the link you were given.", 404)
        raise Refusal(f"Your role in this project ({role.value}) does not allow this.", 403)
    return None


def reviewer_name(typed: str) -> str:
    """Who a review is signed with: the account's name when logged in, else the typed name."""
    user = signed_in()
    return user.name if user is not None else typed
