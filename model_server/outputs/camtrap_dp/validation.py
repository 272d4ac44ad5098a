"""Camtrap DP packages checked with frictionless against the 1.0.2 profile and table schemas,
offline: frictionless's HTTP session is given an adapter that answers the profile's and schemas'
URLs from a local folder and refuses every other address, so nothing is fetched from the
internet and a missing file is an error, never a download."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter
from urllib3.response import HTTPResponse

VERSION = "1.0.2"
BASE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}/"
PROFILE_URL = BASE_URL + "camtrap-dp-profile.json"
TABLES = ("deployments", "media", "observations")
SCHEMA_URLS = {table: f"{BASE_URL}{table}-table-schema.json" for table in TABLES}
# what the Camtrap DP profile refers to beyond its own files
DATA_PACKAGE_PROFILE = "https://specs.frictionlessdata.io/schemas/data-package.json"
GEOJSON_PROFILE = "http://json.schemastore.org/geojson.json"


class LocalFiles(BaseAdapter):
    """Answers GET for the URLs in `files` (URL -> JSON text) and refuses any other."""

    def __init__(self, files: Mapping[str, str]) -> None:
        super().__init__()
        self.files = dict(files)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        url = str(request.url)
        if url not in self.files:
            raise requests.ConnectionError(f"offline validation: no local copy of {url}")
        body = self.files[url].encode("utf-8")
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.request = request
        response.encoding = "utf-8"
        response.headers["Content-Type"] = "application/json"
        # frictionless streams the body from `raw`, as from a real connection
        response.raw = HTTPResponse(
            body=io.BytesIO(body), status=200, preload_content=False, decode_content=False
        )
        return response

    def close(self) -> None:
        pass


def schema_files(folder: Path) -> dict[str, str]:
    """The URLs frictionless asks for, answered from `folder` (the profile and the three table
    schemas as the camtrap-dp repository publishes them), GeoJSON's schema from frictionless's
    own copy, and an empty schema for the generic Data Package profile (frictionless checks
    that itself)."""
    import frictionless

    files = {PROFILE_URL: (folder / "camtrap-dp-profile.json").read_text(encoding="utf-8")}
    for table, url in SCHEMA_URLS.items():
        files[url] = (folder / f"{table}-table-schema.json").read_text(encoding="utf-8")
    geojson = Path(frictionless.__file__).parent / "assets" / "profiles" / "geojson.json"
    files[GEOJSON_PROFILE] = geojson.read_text(encoding="utf-8")
    files[DATA_PACKAGE_PROFILE] = "{}"
    return files


@dataclass(frozen=True)
class Problem:
    where: str  # the resource (table) or "package"
    row: int | None
    field: str
    message: str
    kind: str = ""  # frictionless's error title ("Constraint Error"), "Descriptor" for the profile

    def __str__(self) -> str:
        place = self.where + (f" row {self.row}" if self.row is not None else "")
        return f"{place}{f' ({self.field})' if self.field else ''}: {self.message}"


def validate(descriptor: Path, schemas: Path, *, limit: int = 1000) -> list[Problem]:
    """Every problem frictionless finds in the package whose `datapackage.json` is
    `descriptor` (at most `limit`), [] for a valid package. A descriptor the profile refuses
    (a required property missing) is one problem, and its tables are still checked against
    their schemas, foreign keys included."""
    from frictionless import FrictionlessException, Package, system

    session = requests.Session()
    adapter = LocalFiles(schema_files(schemas))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    found: list[Problem] = []
    with system.use_context(http_session=session):
        try:
            package = Package(str(descriptor))
        except FrictionlessException as exc:
            found += [
                Problem("package", None, "", message, "Descriptor") for message in _messages(exc)
            ]
            plain = json.loads(descriptor.read_text(encoding="utf-8"))
            plain.pop("profile", None)
            package = Package(plain, basepath=str(descriptor.parent))
        report = package.validate(limit_errors=limit)
    for error in report.errors:
        found.append(Problem("package", None, "", error.message, error.title))
    for task in report.tasks:
        for error in task.errors:
            found.append(
                Problem(
                    task.name or task.place,
                    getattr(error, "row_number", None),
                    getattr(error, "field_name", "") or "",
                    error.message,
                    error.title,
                )
            )
    return found


def _messages(exc: Exception) -> list[str]:
    reasons = getattr(exc, "reasons", None) or []
    return [r.message for r in reasons] or [str(exc)]


def grouped(found: list[Problem]) -> list[dict[str, Any]]:
    """The problems by kind, table and field, most frequent first, each with how many there
    are, the rows they are on (the first few) and the first one's message: what a person
    fixes, rather than every message in a row."""
    groups: dict[tuple[str, str, str], list[Problem]] = {}
    for p in found:
        groups.setdefault((p.kind or "Problem", p.where, p.field), []).append(p)
    return [
        {
            "kind": kind,
            "where": where,
            "field": name,
            "count": len(items),
            "rows": [p.row for p in items if p.row is not None][:5],
            "first": items[0].message,
        }
        for (kind, where, name), items in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]


def said(group: dict[str, Any]) -> str:
    """One group in a line: `3 × deployments (latitude): <the first message>`."""
    place = group["where"] + (f" ({group['field']})" if group["field"] else "")
    return f"{group['count']} × {place}: {group['first']}"
