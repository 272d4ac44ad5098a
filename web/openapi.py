"""The HTTP API's OpenAPI 3.1 document: kept by hand in `api_spec/openapi.yaml` beside the
views, served at /api/openapi.json, and checked against the app's URL map by the tests (a route
the document does not name fails them)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources as package_files
from typing import Any

import yaml
from flask import Blueprint, Flask, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api")

METHODS = ("get", "post", "put", "patch", "delete")
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@cache
def load_spec() -> dict[str, Any]:
    """The document as data (read once; the YAML's anchors already expanded)."""
    text = package_files.files("web").joinpath("api_spec/openapi.yaml").read_text("utf-8")
    spec: dict[str, Any] = yaml.safe_load(text)
    spec.pop("x-shared", None)  # anchors only: what they name is repeated where used
    return spec


def documented_operations() -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every operation the document describes."""
    return {
        (method.upper(), path)
        for path, item in load_spec()["paths"].items()
        for method in item
        if method in METHODS
    }


def app_operations(app: Flask, prefix: str = "/api/") -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every route the app serves under `prefix`."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method.lower() in METHODS:
                found.add((method, path))
    return found


@bp.get("/openapi.json")
def document() -> Any:
    return jsonify(load_spec())
