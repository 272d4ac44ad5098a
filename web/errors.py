"""Refusals in the form the client asked for: JSON for the API and scripts, a page for people."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request


def error_response(status: int, message: str) -> Any:
    if request.path.startswith("/api/") or not request.accept_mimetypes.accept_html:
        return jsonify(error=message), status
    return render_template("error.html", message=message, status=status), status
