"""The fields a POST carries, whether a script sent JSON or a browser a form: a JSON list,
string or number, or JSON that does not parse, is a 400 saying so, not a 500 from the first
`.get` on it (issue 33, item 13)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from flask import request
from werkzeug.datastructures import MultiDict

from web.errors import Refusal


def body_fields(page: str | None = None) -> Mapping[str, Any]:
    """The JSON object sent ({} for an empty body), or the form's fields."""
    if not request.is_json:
        return request.form
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise Refusal("The body is not valid JSON.", page=page)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Refusal("Send a JSON object ({...}) as the body.", page=page)
    return body


def body_dict(page: str | None = None) -> dict[str, Any]:
    """`body_fields` as a plain dict (a form's first value of each field)."""
    body = body_fields(page)
    return body.to_dict() if isinstance(body, MultiDict) else dict(body)


def text_field(body: Mapping[str, Any], name: str) -> str:
    """A text field of the body ("" when absent): a JSON list, number or object there is a 400
    naming the field, never its Python spelling stored as text."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refusal(f"`{name}` must be text.")
    return value


# The largest id a database row can have (a 64-bit signed integer)
LARGEST_ID = 2**63 - 1


def is_row_id(value: Any) -> TypeGuard[int]:
    """A JSON whole number that can name a database row: a larger one is no row at all, not an
    overflow in the database driver."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LARGEST_ID
