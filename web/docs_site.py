"""The documentation site at /docs/, when it was built into `site/` beside the code
(`.venv/bin/mkdocs build --strict`); without it, /docs/ says how to build it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, send_from_directory

from web.errors import Refusal

bp = Blueprint("docs_site", __name__)


def built_site() -> Path:
    """`site/` beside the code, or the folder the app's `TRAPLINE_DOCS_SITE` names."""
    configured = current_app.config.get("TRAPLINE_DOCS_SITE")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "site"


@bp.get("/docs/")
@bp.get("/docs/<path:name>")
def page(name: str = "") -> Any:
    root = built_site()
    if not (root / "index.html").is_file():
        raise Refusal(
            "The documentation is not built on this server: run `.venv/bin/mkdocs build --strict`"
            " in Trapline's folder, or read it in docs/.",
            404,
        )
    if name == "" or name.endswith("/"):
        name += "index.html"
    return send_from_directory(root, name)
