"""The fields a project records beside the species (sex, age class, behaviour, an individual's
id, a free note): each text, a number or a choice, set on a box or on a whole event, exported
as columns, and written into Camtrap DP's own observation fields where the standard has one
(`sex`, `lifeStage`, `behavior`, `individualID`, `observationComments`; the others go into
`observationTags` as `name:value`)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from shared.people.errors import PeopleError

KINDS = ("text", "number", "choice")
# Camtrap DP 1.0's observation fields a project field can fill, with their enumerations
CAMTRAP_TERMS: dict[str, tuple[str, ...] | None] = {
    "sex": ("female", "male"),
    "lifeStage": ("adult", "subadult", "juvenile"),
    "behavior": None,
    "individualID": None,
    "observationComments": None,
}
MAX_FIELDS = 12
MAX_VALUE = 200
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _-]{0,39}$")
# the names the report's own columns use: a field may not take one
RESERVED = frozenset(
    {
        "file", "frame", "category", "confidence", "source", "review", "reviewer",
        "verified_category", "species", "species_source", "species_distance",
        "species_runner_up", "x_min", "y_min", "width", "height", "x_min_px", "y_min_px",
        "width_px", "height_px", "deployment", "event_id", "start", "end", "files", "outcome",
        "animals_maxn", "persons_maxn", "vehicles_maxn", "max_confidence", "reviewed_files",
        "counts_from", "confirmed_species", "confirmed_count", "confirmed_by", "first_file",
        "notes",
    }
)  # fmt: skip
# one field per line: `sex: choice(female, male) -> sex`, `note: text -> observationComments`
LINE = re.compile(
    r"^\s*(?P<name>[^:]+?)\s*:\s*(?P<kind>text|number|choice)\s*"
    r"(?:\((?P<choices>[^)]*)\))?\s*(?:->\s*(?P<term>\w+))?\s*$"
)


@dataclass(frozen=True)
class CustomField:
    name: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    camtrap: str = ""  # the Camtrap DP observation field it fills; "" for observationTags

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "choices": list(self.choices),
            "camtrap": self.camtrap,
        }

    def line(self) -> str:
        choices = f"({', '.join(self.choices)})" if self.kind == "choice" else ""
        return f"{self.name}: {self.kind}{choices}" + (
            f" -> {self.camtrap}" if self.camtrap else ""
        )

    def value(self, raw: Any) -> str | float | None:
        """`raw` checked for this field; None (or "") clears it."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if self.kind == "number":
            try:
                number = float(raw) if not isinstance(raw, bool) else math.nan
            except (TypeError, ValueError):
                number = math.nan
            if not math.isfinite(number):
                raise PeopleError(f"{self.name} is a number.")
            return number
        text = " ".join(str(raw).split())
        if len(text) > MAX_VALUE:
            raise PeopleError(f"{self.name} is at most {MAX_VALUE} characters.")
        if self.kind == "choice" and text not in self.choices:
            raise PeopleError(f"{self.name} is one of {', '.join(self.choices)}.")
        return text


def from_json(raw: Any) -> tuple[CustomField, ...]:
    """What the store holds (checked when it was written)."""
    return tuple(
        CustomField(
            str(f["name"]), str(f.get("kind") or "text"), tuple(f.get("choices") or ()),
            str(f.get("camtrap") or ""),
        )
        for f in raw or []
    )  # fmt: skip


def parsed(raw: Any) -> tuple[CustomField, ...]:
    """The fields as a person typed them, one per line, or as the API sends them (a list of
    {name, kind, choices, camtrap}); each checked, names unique, one field per Camtrap term."""
    if isinstance(raw, str):
        raw = [line for line in raw.splitlines() if line.strip()]
    if not isinstance(raw, list):
        raise PeopleError("fields is a list, or lines like 'sex: choice(female, male) -> sex'.")
    if len(raw) > MAX_FIELDS:
        raise PeopleError(f"A project has at most {MAX_FIELDS} fields.")
    found = tuple(_one(f) for f in raw)
    names = [f.name.lower() for f in found]
    if len(set(names)) < len(names):
        raise PeopleError("Each field has its own name.")
    terms = [f.camtrap for f in found if f.camtrap]
    if len(set(terms)) < len(terms):
        raise PeopleError("Each Camtrap DP field is filled by one project field at most.")
    return found


def _one(raw: Any) -> CustomField:
    if isinstance(raw, str):
        match = LINE.match(raw)
        if match is None:
            raise PeopleError(
                f"{raw.strip()!r}: write a field as 'name: text', 'name: number' or "
                "'name: choice(a, b, c)', optionally '-> sex' (a Camtrap DP field)."
            )
        listed = [c.strip() for c in (match["choices"] or "").split(",") if c.strip()]
        raw = {"name": match["name"], "kind": match["kind"], "choices": listed}
        raw["camtrap"] = match["term"] or ""
    if not isinstance(raw, dict):
        raise PeopleError("A field is {name, kind, choices, camtrap}.")
    name = " ".join(str(raw.get("name") or "").split())
    kind = str(raw.get("kind") or "text")
    choices = tuple(dict.fromkeys(" ".join(str(c).split()) for c in raw.get("choices") or []))
    term = str(raw.get("camtrap") or "")
    if not NAME.match(name) or name.lower() in RESERVED:
        raise PeopleError(
            f"{name!r} cannot name a field: up to 40 letters, digits, spaces, - or _, starting "
            "with a letter, and not a name the report already uses."
        )
    if kind not in KINDS:
        raise PeopleError(f"{name}: the kind is one of {', '.join(KINDS)}.")
    if kind == "choice" and not choices:
        raise PeopleError(f"{name}: a choice lists its values, e.g. choice(adult, juvenile).")
    if kind != "choice" and choices:
        raise PeopleError(f"{name}: only a choice lists values.")
    if term and term not in CAMTRAP_TERMS:
        raise PeopleError(f"{name}: the Camtrap DP field is one of {', '.join(CAMTRAP_TERMS)}.")
    allowed = CAMTRAP_TERMS.get(term)
    if allowed is not None and (kind != "choice" or not set(choices) <= set(allowed)):
        raise PeopleError(
            f"{name}: Camtrap DP's {term} is one of {', '.join(allowed)}; make it "
            f"choice({', '.join(allowed)})."
        )
    if term == "individualID" and kind == "number":
        raise PeopleError(f"{name}: an individual's id is text.")
    return CustomField(name, kind, choices, term)


def checked_values(fields: tuple[CustomField, ...], raw: Any) -> dict[str, Any]:
    """{field name: value or None (clears it)} from what a reviewer sent, each checked."""
    if not isinstance(raw, dict):
        raise PeopleError("fields is an object of {field name: value}.")
    by_name = {f.name: f for f in fields}
    unknown = [name for name in raw if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise PeopleError(f"{unknown[0]!r} is not one of this project's fields ({known}).")
    return {name: by_name[name].value(value) for name, value in raw.items()}


def merged(current: dict[str, Any] | None, change: dict[str, Any]) -> dict[str, Any] | None:
    """`current` with `change` applied (None removes a value); None when nothing is left."""
    found = {**(current or {}), **change}
    kept = {k: v for k, v in found.items() if v is not None}
    return kept or None


def camtrap_values(
    fields: tuple[CustomField, ...], values: dict[str, Any] | None
) -> dict[str, Any]:
    """A box's or an event's values as Camtrap DP observation fields: the standard's own where
    a field fills one, the rest as `observationTags` (`name:value|name:value`)."""
    if not values:
        return {}
    found: dict[str, Any] = {}
    tags = []
    for f in fields:
        value = values.get(f.name)
        if value is None:
            continue
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if f.camtrap:
            found[f.camtrap] = shown
        else:
            tags.append(f"{f.name}:{shown}".replace("|", "/"))
    if tags:
        found["observationTags"] = "|".join(tags)
    return found
