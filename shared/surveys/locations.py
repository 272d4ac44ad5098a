"""A project's locations: a camera's place and kit, registered once and used by every card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shared.camtrap_options import Place, parse_place
from shared.people.errors import PeopleError
from shared.store.schema import locations
from shared.store.snapshot import Reader

FIELDS = ("camera_serial", "camera_model", "bait", "notes")


@dataclass(frozen=True)
class Location:
    id: int
    project_id: int
    name: str
    latitude: float | None
    longitude: float | None
    camera_serial: str
    camera_model: str
    camera_height: float | None
    bait: str
    notes: str

    @property
    def place(self) -> Place | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "camera_serial": self.camera_serial,
            "camera_model": self.camera_model,
            "camera_height": self.camera_height,
            "bait": self.bait,
            "notes": self.notes,
        }


def _location(row: Any) -> Location:
    return Location(
        row.id,
        row.project_id,
        row.name,
        row.latitude,
        row.longitude,
        row.camera_serial,
        row.camera_model,
        row.camera_height,
        row.bait,
        row.notes,
    )


def checked(body: dict[str, Any]) -> dict[str, Any]:
    """A location's fields from a form or JSON body, each checked; unknown keys are ignored."""
    values: dict[str, Any] = {}
    name = " ".join(str(body.get("name", "")).split())
    if not 1 <= len(name) <= 200 or "/" in name:
        raise PeopleError("A location's name is 1-200 characters, without '/'.")
    values["name"] = name
    lat, lon = body.get("latitude", ""), body.get("longitude", "")
    if lat not in (None, "") or lon not in (None, ""):
        try:
            values["latitude"], values["longitude"] = parse_place(str(lat), str(lon))
        except ValueError as exc:
            raise PeopleError(f"{name}: {exc}.") from None
    height = body.get("camera_height")
    if height not in (None, ""):
        try:
            values["camera_height"] = float(str(height))
        except ValueError:
            raise PeopleError("camera_height is in metres, a number.") from None
        if not 0 <= values["camera_height"] <= 50:
            raise PeopleError("camera_height is 0-50 metres.")
    for key in FIELDS:
        values[key] = " ".join(str(body.get(key) or "").split())[:2000]
    return values


def add_location(
    target: Engine | Connection, project_id: int, values: dict[str, Any], *, now: datetime
) -> Location:
    statement = (
        insert(locations)
        .values(project_id=project_id, created_at=now, **{**dict.fromkeys(FIELDS, ""), **values})
        .returning(*locations.c)
    )
    try:
        if isinstance(target, Connection):
            return _location(target.execute(statement).one())
        with target.begin() as conn:
            return _location(conn.execute(statement).one())
    except IntegrityError:
        raise PeopleError(
            f"This project already has a location called {values['name']!r}."
        ) from None


def update_location(engine: Engine, location: Location, values: dict[str, Any]) -> Location:
    with engine.begin() as conn:
        row = conn.execute(
            update(locations)
            .where(locations.c.id == location.id)
            .values(**values)
            .returning(*locations.c)
        ).one()
    return _location(row)


def locations_of(target: Reader | Connection, project_id: int) -> list[Location]:
    query = select(locations).where(locations.c.project_id == project_id).order_by(locations.c.name)
    if isinstance(target, Connection):
        return [_location(r) for r in target.execute(query)]
    with target.connect() as conn:
        return [_location(r) for r in conn.execute(query)]


def location_named(engine: Engine, project_id: int, name: str) -> Location | None:
    found = [loc for loc in locations_of(engine, project_id) if loc.name == " ".join(name.split())]
    return found[0] if found else None
