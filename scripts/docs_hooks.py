"""MkDocs hooks: the reference pages are generated at build time from the code that owns each
fact (the settings class, the report writers' column lists, the OpenAPI document), so the docs
cannot drift from it. A setting or column without its meaning fails the build."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

MARKERS = ("<!-- trapline:settings -->", "<!-- trapline:columns -->", "<!-- trapline:openapi -->")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKERS[0] in markdown:
        markdown = markdown.replace(MARKERS[0], settings_table())
    if MARKERS[1] in markdown:
        markdown = markdown.replace(MARKERS[1], column_tables())
    if MARKERS[2] in markdown:
        markdown = markdown.replace(MARKERS[2], openapi_tables())
    return markdown


def on_files(files: Files, config: Any) -> Files:
    """The OpenAPI document beside the page that shows it, for readers without the app."""
    from web.openapi import load_spec

    files.append(
        File.generated(config, "reference/openapi.json", content=json.dumps(load_spec(), indent=2))
    )
    return files


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(name: str, value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if name.endswith("_bytes") and isinstance(value, int):
        for unit, size in (("GiB", 1024**3), ("MiB", 1024**2)):
            if value >= size and value % size == 0:
                return f"`{value}` ({value // size} {unit})"
    return f"`{value}`"


def settings_table() -> str:
    from shared.settings import PREFIX, SECRETS, Settings
    from shared.settings_help import HELP

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        if f.name not in HELP:
            raise PluginError(f"setting {f.name} has no meaning in shared/settings_help.py")
        default = "a development value" if f.name in SECRETS and f.default else None
        shown = default or _default(f.name, None if f.default is MISSING else f.default)
        rows.append(f"| `{PREFIX}{f.name.upper()}` | {shown} | {_cell(HELP[f.name])} |")
    return "\n".join(rows)


def column_tables() -> str:
    from model_server.outputs.column_help import HELP
    from model_server.outputs.event_tables import DEPLOYMENT_COLUMNS, EVENT_COLUMNS
    from model_server.outputs.rows import DETECTION_COLUMNS, FRAME_COLUMNS, MEDIA_COLUMNS

    tables = {
        "media": ("`Media` sheet and `images.csv`", MEDIA_COLUMNS),
        "frames": ("`Frames` sheet and `frames.csv`", FRAME_COLUMNS),
        "detections": ("`Detections` sheet and `detections.csv`", DETECTION_COLUMNS),
        "events": ("`Events` sheet and `events.csv`", EVENT_COLUMNS),
        "deployments": ("`Deployments` sheet and `deployments.csv`", DEPLOYMENT_COLUMNS),
    }
    parts = []
    for table, (title, columns) in tables.items():
        parts += [f"## {title}", "", "| column | meaning |", "|---|---|"]
        for column in columns:
            meaning = HELP.get(f"{table}.{column}", HELP.get(column))
            if meaning is None:
                raise PluginError(f"column {table}.{column} has no meaning in column_help.py")
            parts.append(f"| `{column}` | {_cell(meaning)} |")
        parts.append("")
    return "\n".join(parts)


def _schema_text(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return "`" + schema["$ref"].rsplit("/", 1)[-1] + "`"
    if schema.get("type") == "object" and schema.get("properties"):
        return ", ".join(f"`{name}`" for name in schema["properties"])
    if schema.get("type") == "array":
        return "list of " + _schema_text(schema.get("items"))
    return "`" + str(schema.get("type", "any")) + "`"


def _body_text(content: dict[str, Any]) -> str:
    return "; ".join(
        f"{kind}: {_schema_text(media.get('schema'))}" for kind, media in content.items()
    )


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` inside the document followed to what it names."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def openapi_tables() -> str:
    from web.openapi import load_spec

    spec = load_spec()
    parts = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            parts += [f"### `{method.upper()} {path}`", "", op.get("summary", ""), ""]
            params = [
                _resolved(spec, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]
            ]
            if params:
                names = ", ".join(f"`{p['name']}` ({p['in']})" for p in params)
                parts += [f"Parameters: {names}", ""]
            if "requestBody" in op:
                body = _resolved(spec, op["requestBody"]).get("content", {})
                parts += [f"Body: {_body_text(body)}", ""]
            parts += ["| answer | body |", "|---|---|"]
            for status, answer in op.get("responses", {}).items():
                answer = _resolved(spec, answer)
                body = _body_text(answer.get("content", {}))
                parts.append(f"| `{status}` {_cell(answer.get('description', ''))} | {body} |")
            parts.append("")
    return "\n".join(parts)
