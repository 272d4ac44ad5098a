"""The class set's suggestions on a job's detections, and which set made them (kept in the job's
options as `species`, so the outputs and the job page can name it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, func, select, update

from shared.species.classifier import Suggestion
from shared.store.final_counts import counted_machine_box
from shared.store.schema import detections, jobs, media
from shared.store.snapshot import Reader


def store_suggestions(engine: Engine, found: list[tuple[int, Suggestion]]) -> None:
    if not found:
        return
    statement = (
        update(detections)
        .where(detections.c.id == bindparam("det"))
        .values(
            suggested_species=bindparam("b_species"),
            species_distance=bindparam("b_distance"),
            species_runner_up=bindparam("b_runner_up"),
            species_margin=bindparam("b_margin"),
        )
    )
    with engine.begin() as conn:
        conn.execute(
            statement,
            [
                {
                    "det": det,
                    "b_species": s.species,
                    "b_distance": s.distance,
                    "b_runner_up": s.runner_up or None,
                    "b_margin": s.margin,
                }
                for det, s in found
            ],
        )


def clear_suggestions(engine: Engine, job_id: str, *, unreviewed_only: bool = False) -> None:
    """Forgets the job's suggestions (before another set classifies it)."""
    chosen = select(media.c.id).where(media.c.job_id == job_id)
    if unreviewed_only:
        chosen = chosen.where(media.c.review == "")
    with engine.begin() as conn:
        conn.execute(
            update(detections)
            .where(detections.c.media_id.in_(chosen))
            .values(
                suggested_species=None,
                species_distance=None,
                species_runner_up=None,
                species_margin=None,
            )
        )


def classification_of(engine: Engine, job_id: str) -> dict[str, Any]:
    """What `record_classification` noted for the job ({} when nothing classified it)."""
    with engine.connect() as conn:
        options = conn.execute(select(jobs.c.options).where(jobs.c.id == job_id)).scalar()
    return dict((options or {}).get("species") or {})


def record_classification(engine: Engine, job_id: str, info: dict[str, Any]) -> None:
    """Notes in the job's options which class set and embedding model made its suggestions."""
    with engine.begin() as conn:
        row = conn.execute(
            select(jobs.c.options).where(jobs.c.id == job_id).with_for_update()
        ).first()
        if row is None:
            return
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(options={**(row.options or {}), "species": info})
        )


def suggestions_by_file(engine: Reader, job_id: str) -> dict[str, dict[str, int]]:
    """{path: {species: boxes}} of the class set's answers on the animal boxes that count
    (machine boxes at the job's threshold, not suppressed) of files no person reviewed;
    "unknown" is no answer."""
    threshold = select(jobs.c.threshold).where(jobs.c.id == job_id).scalar_subquery()
    query = (
        select(media.c.path, detections.c.suggested_species, func.count())
        .join(media, media.c.id == detections.c.media_id)
        .where(
            media.c.job_id == job_id,
            media.c.verified_outcome.is_(None),
            detections.c.category == "1",
            counted_machine_box(),
            detections.c.confidence >= threshold,
            detections.c.suggested_species.is_not(None),
            detections.c.suggested_species != "unknown",
        )
        .group_by(media.c.path, detections.c.suggested_species)
    )
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for path, species, n in conn.execute(query):
            found.setdefault(path, {})[species] = int(n)
    return found
