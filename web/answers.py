"""One answer for the views both the page's forms and scripts call: a browser's form gets its
message flashed and is sent back to its page; a script (JSON, CSV, or any request carrying its
X-API-Key) gets JSON with the status."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect

from web.errors import from_page_form


def answer(status: int, message: str, page: str, **extra: Any) -> Any:
    """`page`: where the browser goes back to (with an anchor where useful)."""
    if from_page_form():
        flash(message, "notice" if status < 400 else "error")
        return redirect(page, code=303)
    return jsonify({"message" if status < 400 else "error": message, **extra}), status
