"""People's own pages: log in and out, change one's password, make and revoke API tokens, and
set a password from a one-time link a site admin issued."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from shared.people import resets, tokens, users
from shared.people.errors import PeopleError
from web import resources
from web.access import Account, now, signed_in
from web.errors import Refusal, refusal_response
from web.security import RateLimited, check_login_failures

bp = Blueprint("accounts", __name__)
WRONG = "That user name and password do not match an active account."


def _next_page() -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    target = request.values.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("projects.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    name = (request.form.get("name") or "").strip()
    try:
        check_login_failures(name, count=False)
        user = users.authenticate(resources.results_store(), name, request.form.get("password", ""))
        if user is None:
            check_login_failures(name, count=True)
            return render_template("login.html", error=WRONG, next=_next_page(), name=name), 401
    except RateLimited as exc:
        return refusal_response(exc)
    session.clear()  # nothing of the anonymous session carries over into the logged-in one
    login_user(Account(user))
    return redirect(_next_page(), code=303)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"), code=303)


@bp.get("/account")
@login_required
def account() -> Any:
    user = signed_in()
    assert user is not None
    listed = tokens.tokens_of(resources.results_store(), user.id)
    return render_template("account.html", user=user, tokens=listed)


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    user = signed_in()
    assert user is not None
    store = resources.results_store()
    back = url_for("accounts.account")
    if users.authenticate(store, user.name, request.form.get("current", "")) is None:
        raise Refusal("The current password is not right.", 403, page=back)
    new = request.form.get("new", "")
    if new != request.form.get("again", ""):
        raise Refusal("The two new passwords differ.", page=back)
    try:
        users.set_password(store, user.id, new, now=now())
    except PeopleError as exc:
        raise Refusal(str(exc), page=back) from None
    changed = users.user_by_id(store, user.id)
    assert changed is not None
    login_user(Account(changed))  # this session goes on; every other one has ended
    flash("Password changed. Every other session of this account has been logged out.", "ok")
    return redirect(back, code=303)


@bp.post("/account/tokens")
@login_required
def create_token() -> Any:
    user = signed_in()
    assert user is not None
    try:
        token, record = tokens.create_token(
            resources.results_store(), user.id, request.form.get("name", ""), now=now()
        )
    except PeopleError as exc:
        raise Refusal(str(exc), page=url_for("accounts.account")) from None
    if request.is_json or not request.accept_mimetypes.accept_html:
        return jsonify({**record.public(), "token": token}), 201
    listed = tokens.tokens_of(resources.results_store(), user.id)
    return render_template("account.html", user=user, tokens=listed, new_token=token), 201


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Any:
    user = signed_in()
    assert user is not None
    if not tokens.revoke_token(resources.results_store(), user.id, token_id, now=now()):
        raise Refusal("You have no live token with that number.", 404)
    flash("Token revoked: scripts using it are refused from now on.", "ok")
    return redirect(url_for("accounts.account"), code=303)


@bp.route("/reset/<code>", methods=["GET", "POST"])
def reset(code: str) -> Any:
    store = resources.results_store()
    user = resets.reset_user(store, code)
    if request.method == "GET" or user is None:
        status = 200 if user is not None else 404
        return render_template(
            "reset.html", user=user, error=None if user else resets.USED + "a new one."
        ), status
    new = request.form.get("new", "")
    if new != request.form.get("again", ""):
        return render_template("reset.html", user=user, error="The two passwords differ."), 400
    try:
        done = resets.use_reset(store, code, new, now=now())
    except PeopleError as exc:
        return render_template("reset.html", user=user, error=str(exc)), 400
    session.clear()
    login_user(Account(done))
    return redirect(url_for("projects.index"), code=303)
