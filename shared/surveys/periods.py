"""Deployment periods: each finished card of a project, split into its deployments as the job
itself names them (folders, split by camera serial), is matched to the project's locations and
adds one period per deployment. A second card from the same camera adds a period to the same
location; it never makes a second camera.

Matching, first that applies: the location the uploader chose for the whole card; a location
with the deployment's camera serial; a location named like the deployment's folder (or, for a
card of loose photos, like the card). Anything else registers a new location from what the photos
say (folder, serial, camera model, median GPS position)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shared.ecology.clock_fix import clock_shifts, shifted
from shared.events.grouping import deployments
from shared.events.model import Deployment
from shared.options import JobOptions
from shared.people.errors import PeopleError
from shared.store.event_data import event_items
from shared.store.queries import BadQuery
from shared.store.schema import deployment_periods, jobs, locations, media, project_jobs
from shared.store.snapshot import Reader
from shared.surveys.locations import Location, add_location, locations_of


@dataclass(frozen=True)
class Period:
    id: int
    location_id: int
    job_id: str
    deployment: str
    start: datetime | None
    end: datetime | None
    media: int
    edited: bool
    # a person's clock correction in force (`shared.ecology.clock_fix`): start and end above
    # already have it, unless a person set them (then they are true times)
    clock_shift: timedelta = timedelta(0)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job_id,
            "deployment": self.deployment,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "media": self.media,
            "edited": self.edited,
            "clock_shift_seconds": int(self.clock_shift.total_seconds()),
        }


def _unmatched_jobs(conn: Connection, project_id: int) -> list[tuple[str, int | None, Any]]:
    """The project's finished jobs that have no period yet, with their chosen location."""
    has_period = select(deployment_periods.c.job_id).where(
        deployment_periods.c.job_id == project_jobs.c.job_id
    )
    rows = conn.execute(
        select(project_jobs.c.job_id, project_jobs.c.location_id, jobs.c.options)
        .join(jobs, jobs.c.id == project_jobs.c.job_id)
        .where(
            project_jobs.c.project_id == project_id,
            jobs.c.finished_at.is_not(None),
            ~has_period.exists(),
        )
        .order_by(project_jobs.c.added_at, project_jobs.c.job_id)
    ).all()
    return [(r.job_id, r.location_id, r.options) for r in rows]


def match_location(
    d: Deployment, chosen: int | None, known: list[Location], job_id: str
) -> Location | str:
    """The location this deployment is from, or the name a new one is registered under."""
    by_id = {loc.id: loc for loc in known}
    if chosen is not None and chosen in by_id:
        return by_id[chosen]
    if d.serial:
        for loc in known:
            if loc.camera_serial and loc.camera_serial == d.serial:
                return loc
    name = d.folder.rsplit("/", 1)[-1] if d.folder else f"Card {job_id[:8]}"
    for loc in known:
        if loc.name == name:
            return loc
    return name


def _new_location(
    conn: Connection, project_id: int, name: str, d: Deployment, now: datetime
) -> Location:
    values: dict[str, Any] = {
        "name": name,
        "camera_serial": d.serial,
        "camera_model": " ".join(p for p in (d.make, d.model) if p),
    }
    if d.latitude is not None and d.longitude is not None:
        values["latitude"], values["longitude"] = d.latitude, d.longitude
    return add_location(conn, project_id, values, now=now)


LINK_CHUNK = 500  # paths per UPDATE: well under every database's limit on bound values


def link_media(conn: Connection, period_id: int, job_id: str, paths: list[str]) -> None:
    """The period's media rows name it, so a gallery filters by period with one index."""
    for at in range(0, len(paths), LINK_CHUNK):
        conn.execute(
            update(media)
            .where(media.c.job_id == job_id, media.c.path.in_(paths[at : at + LINK_CHUNK]))
            .values(period_id=period_id)
        )


def _link_older(engine: Engine, project_id: int) -> None:
    """Periods made before their media could name them (migration 0009) are linked once."""
    query = (
        select(
            deployment_periods.c.id, deployment_periods.c.job_id, deployment_periods.c.deployment
        )
        .join(locations, locations.c.id == deployment_periods.c.location_id)
        .where(locations.c.project_id == project_id, deployment_periods.c.linked.is_(False))
    )
    with engine.connect() as conn:
        waiting = conn.execute(query).all()
    by_job: dict[str, dict[str, int]] = {}
    for row in waiting:
        by_job.setdefault(row.job_id, {})[row.deployment] = row.id
    for job_id, periods in by_job.items():
        with engine.connect() as conn:
            raw = conn.execute(select(jobs.c.options).where(jobs.c.id == job_id)).scalar()
        level = JobOptions.from_json(raw).level
        with engine.begin() as conn:
            for d in deployments(event_items(engine, job_id), level):
                if d.id in periods:
                    link_media(conn, periods[d.id], job_id, [i.path for i in d.items])
            conn.execute(
                update(deployment_periods)
                .where(deployment_periods.c.id.in_(list(periods.values())))
                .values(linked=True)
            )


def sync_periods(engine: Engine, project_id: int, *, now: datetime) -> int:
    """Adds the periods of every finished card that has none yet; returns how many cards were
    matched. Safe to run from two requests at once: a card's periods are one transaction, and
    the second one to write them finds the first one's and stops."""
    _link_older(engine, project_id)
    with engine.connect() as conn:
        waiting = _unmatched_jobs(conn, project_id)
    done = 0
    for job_id, chosen, options in waiting:
        level = JobOptions.from_json(options).level
        found = deployments(event_items(engine, job_id), level)
        try:
            with engine.begin() as conn:
                known = locations_of(conn, project_id)
                for d in found:
                    match = match_location(d, chosen, known, job_id)
                    if isinstance(match, str):
                        match = _new_location(conn, project_id, match, d, now)
                        known.append(match)
                    elif match.place is None and d.latitude is not None and d.longitude is not None:
                        conn.execute(
                            update(locations)
                            .where(locations.c.id == match.id)
                            .values(latitude=d.latitude, longitude=d.longitude)
                        )
                    period_id = conn.execute(
                        insert(deployment_periods)
                        .returning(deployment_periods.c.id)
                        .values(
                            location_id=match.id,
                            job_id=job_id,
                            deployment=d.id,
                            start=d.start,
                            end=d.end,
                            media=len(d.items),
                            edited=False,
                            linked=True,
                        )
                    ).scalar_one()
                    link_media(conn, period_id, job_id, [i.path for i in d.items])
        except IntegrityError:
            continue  # another request matched this card first
        done += 1
    return done


def periods_of(engine: Reader, project_id: int) -> dict[int, list[Period]]:
    """location id -> its periods, in time order."""
    query = (
        select(deployment_periods)
        .join(locations, locations.c.id == deployment_periods.c.location_id)
        .where(locations.c.project_id == project_id)
        .order_by(deployment_periods.c.start, deployment_periods.c.id)
    )
    found: dict[int, list[Period]] = {}
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        shifts = clock_shifts(conn, [r.id for r in rows])
    for r in rows:
        shift = shifts.get(r.id, timedelta(0))
        start, end = (
            (r.start, r.end) if r.edited else (shifted(r.start, shift), shifted(r.end, shift))
        )
        found.setdefault(r.location_id, []).append(
            Period(
                r.id, r.location_id, r.job_id, r.deployment, start, end, r.media, r.edited, shift
            )
        )
    for periods in found.values():
        periods.sort(key=lambda p: (p.start is None, p.start or datetime.min, p.id))
    return found


def edit_period(
    engine: Engine, project_id: int, period_id: int, start: datetime | None, end: datetime | None
) -> bool:
    """A person's start and end for one period (a camera set up before its first photo);
    False when the project has no such period."""
    if start is not None and end is not None and end < start:
        raise PeopleError("A deployment period ends after it starts.")
    in_project = select(locations.c.id).where(locations.c.project_id == project_id)
    with engine.begin() as conn:
        done = conn.execute(
            update(deployment_periods)
            .where(
                deployment_periods.c.id == period_id,
                deployment_periods.c.location_id.in_(in_project),
            )
            .values(start=start, end=end, edited=True)
        )
    return done.rowcount == 1


def period_scope(
    engine: Engine,
    project_id: int,
    *,
    period: int | None = None,
    location: int | None = None,
    now: datetime,
) -> frozenset[int] | None:
    """The periods a project gallery shows: one period, or every period of one location; None
    for no such filter. BadQuery for an id that is not this project's."""
    if period is None and location is None:
        return None
    sync_periods(engine, project_id, now=now)
    found = periods_of(engine, project_id)
    if (
        location is not None
        and location not in found
        and location not in {loc.id for loc in locations_of(engine, project_id)}
    ):
        raise BadQuery("location is not one of this project's locations")
    chosen = {p.id for p in found.get(location, [])} if location is not None else None
    if period is not None:
        if not any(p.id == period for ps in found.values() for p in ps):
            raise BadQuery("period is not one of this project's deployment periods")
        chosen = {period} if chosen is None else chosen & {period}
    return frozenset(chosen or ())
