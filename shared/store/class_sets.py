"""Class sets in the results database: a set and its examples (embedding, crop, where it came
from), the uploads that taught it, and the classifier built from them. Both processes use it:
the site lists and removes, the model server adds examples and classifies."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from shared.species.classifier import ClassSet
from shared.store.schema import class_examples, class_sets, class_uploads

SET_NAME = re.compile(r"^[\w][\w .-]{0,99}$")
SPECIES_NAME = re.compile(r"^[^\x00-\x1f/\\]{1,200}$")


class ClassSetError(ValueError):
    """A class set or class name refused, or a set that does not exist."""


def check_set_name(name: str) -> str:
    name = name.strip()
    if not SET_NAME.match(name):
        raise ClassSetError(
            "a class set's name is 1-100 letters, digits, spaces, '.', '-' or "
            "'_', starting with a letter or digit"
        )
    return name


def check_species(name: str) -> str:
    name = " ".join(name.split())
    if not SPECIES_NAME.match(name) or name.lower() == "unknown":
        raise ClassSetError(
            f"{name!r} cannot name a class (1-200 characters, no slashes; "
            "'unknown' is the classifier's own answer)"
        )
    return name


@dataclass(frozen=True)
class SetRow:
    id: int
    name: str
    embedder: str
    overrides: dict[str, float]
    created_at: datetime
    project_id: int | None = None  # None: shared site-wide


@dataclass(frozen=True)
class Example:
    species: str
    vector: np.ndarray
    crop: str  # file name under the set's folder
    source: str
    detection_id: int | None = None


@dataclass
class ClassSummary:
    species: str
    examples: int
    crops: list[tuple[int, str]] = field(default_factory=list)  # (example id, crop file)


def create_set(
    engine: Engine, name: str, now: datetime, embedder: str = "", project_id: int | None = None
) -> SetRow:
    """A new, empty set (of `project_id`, or site-wide); its embedding model is bound by its
    first examples unless given. Names are unique across the site."""
    name = check_set_name(name)
    try:
        with engine.begin() as conn:
            new_id = conn.execute(
                insert(class_sets).values(
                    name=name,
                    embedder=embedder,
                    overrides={},
                    created_at=now,
                    project_id=project_id,
                )
            ).inserted_primary_key
    except IntegrityError as exc:
        raise ClassSetError(f"a class set named {name!r} already exists") from exc
    assert new_id is not None
    return SetRow(int(new_id[0]), name, embedder, {}, now, project_id)


def get_set(engine: Engine, name: str) -> SetRow | None:
    with engine.connect() as conn:
        row = conn.execute(select(class_sets).where(class_sets.c.name == name)).first()
    return _set_row(row) if row is not None else None


def set_by_id(engine: Engine, set_id: int) -> SetRow | None:
    with engine.connect() as conn:
        row = conn.execute(select(class_sets).where(class_sets.c.id == set_id)).first()
    return _set_row(row) if row is not None else None


def bind_embedder(engine: Engine, set_id: int, embedder: str) -> None:
    """A new set takes the embedding model of its first examples; a set's examples must all
    come from one model (ClassSetError otherwise)."""
    with engine.begin() as conn:
        current = conn.execute(
            select(class_sets.c.embedder).where(class_sets.c.id == set_id).with_for_update()
        ).scalar()
        if current is None:
            raise ClassSetError("the class set no longer exists")
        if current == "":
            conn.execute(
                update(class_sets).where(class_sets.c.id == set_id).values(embedder=embedder)
            )
        elif current != embedder:
            raise ClassSetError(
                f"this class set was taught with {current}; this model server "
                f"embeds with {embedder}, whose vectors cannot be compared"
            )


def _set_row(row: Any) -> SetRow:
    return SetRow(
        row.id, row.name, row.embedder, dict(row.overrides or {}), row.created_at, row.project_id
    )


def list_sets(
    engine: Engine, projects: Collection[int] | None = None
) -> list[tuple[SetRow, dict[str, int]]]:
    """Every set with its classes' example counts, by name; with `projects`, only the site-wide
    sets and those of these projects."""
    query = select(class_sets).order_by(class_sets.c.name)
    if projects is not None:
        query = query.where(
            or_(class_sets.c.project_id.is_(None), class_sets.c.project_id.in_(list(projects)))
        )
    with engine.connect() as conn:
        sets = [_set_row(r) for r in conn.execute(query)]
        counts = conn.execute(
            select(class_examples.c.set_id, class_examples.c.species, func.count()).group_by(
                class_examples.c.set_id, class_examples.c.species
            )
        ).all()
    per_set: dict[int, dict[str, int]] = {s.id: {} for s in sets}
    for set_id, species, n in counts:
        per_set.setdefault(set_id, {})[species] = n
    return [(s, dict(sorted(per_set[s.id].items()))) for s in sets]


def add_examples(engine: Engine, set_id: int, examples: list[Example], now: datetime) -> int:
    """Adds examples (any classes); nothing else in the set changes. Returns how many."""
    if not examples:
        return 0
    with engine.begin() as conn:
        conn.execute(insert(class_examples), _example_rows(set_id, examples, now))
    return len(examples)


def add_upload_examples(
    engine: Engine,
    upload_id: int,
    examples: list[Example],
    without_animal: list[str],
    now: datetime,
) -> int | None:
    """An upload's examples added and the upload marked done in one transaction, only while it
    is still marked running: a second attempt at the same zip (its server died after learning)
    never adds them twice. How many were added; None when the upload was no longer running."""
    with engine.begin() as conn:
        row = conn.execute(
            update(class_uploads)
            .where(class_uploads.c.id == upload_id, class_uploads.c.status == "running")
            .values(
                status="done",
                added=len(examples),
                without_animal=without_animal,
                error="",
                finished_at=now,
            )
            .returning(class_uploads.c.set_id)
        ).first()
        if row is None:
            return None
        if examples:
            conn.execute(insert(class_examples), _example_rows(row.set_id, examples, now))
    return len(examples)


def _example_rows(set_id: int, examples: list[Example], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "set_id": set_id,
            "species": check_species(e.species),
            "vector": np.asarray(e.vector, dtype=np.float32).tobytes(),
            "crop": e.crop,
            "source": e.source,
            "detection_id": e.detection_id,
            "created_at": now,
        }
        for e in examples
    ]


def load_classes(
    engine: Engine, set_id: int, overrides: dict[str, float] | None = None
) -> ClassSet:
    """The classifier over the set's examples (and its hand-set thresholds)."""
    vectors: dict[str, list[np.ndarray]] = {}
    with engine.connect() as conn:
        for species, blob in conn.execute(
            select(class_examples.c.species, class_examples.c.vector)
            .where(class_examples.c.set_id == set_id)
            .order_by(class_examples.c.id)
        ):
            vectors.setdefault(species, []).append(np.frombuffer(blob, dtype=np.float32))
    classes = ClassSet(overrides=dict(overrides or {}))
    for species, rows in vectors.items():
        classes.add(species, np.stack(rows))
    return classes


def class_summaries(engine: Engine, set_id: int, strip: int = 8) -> list[ClassSummary]:
    """Per class, its number of examples and the first `strip` crops."""
    found: dict[str, ClassSummary] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            select(class_examples.c.id, class_examples.c.species, class_examples.c.crop)
            .where(class_examples.c.set_id == set_id)
            .order_by(class_examples.c.species, class_examples.c.id)
        ):
            summary = found.setdefault(row.species, ClassSummary(row.species, 0))
            summary.examples += 1
            if len(summary.crops) < strip:
                summary.crops.append((row.id, row.crop))
    return list(found.values())


def example_crop(engine: Engine, set_id: int, example_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(class_examples.c.crop).where(
                class_examples.c.set_id == set_id, class_examples.c.id == example_id
            )
        ).scalar()


def remove_class(engine: Engine, set_id: int, species: str) -> list[str]:
    """Removes a class and its examples; returns their crop files (for the caller to delete).
    No other class changes."""
    with engine.begin() as conn:
        crops = list(
            conn.execute(
                select(class_examples.c.crop).where(
                    class_examples.c.set_id == set_id, class_examples.c.species == species
                )
            ).scalars()
        )
        conn.execute(
            delete(class_examples).where(
                class_examples.c.set_id == set_id, class_examples.c.species == species
            )
        )
        row = conn.execute(select(class_sets.c.overrides).where(class_sets.c.id == set_id)).first()
        if row is not None and species in (row.overrides or {}):
            kept = {k: v for k, v in row.overrides.items() if k != species}
            conn.execute(update(class_sets).where(class_sets.c.id == set_id).values(overrides=kept))
    return crops


def set_threshold(engine: Engine, set_id: int, species: str, value: float | None) -> None:
    """A class's "unknown" distance set by hand (None: calibrated from its examples again)."""
    with engine.begin() as conn:
        row = conn.execute(
            select(class_sets.c.overrides).where(class_sets.c.id == set_id).with_for_update()
        ).first()
        if row is None:
            raise ClassSetError("no such class set")
        overrides = {k: v for k, v in (row.overrides or {}).items() if k != species}
        if value is not None:
            overrides[species] = float(value)
        conn.execute(
            update(class_sets).where(class_sets.c.id == set_id).values(overrides=overrides)
        )


def learned_detections(engine: Engine, set_id: int) -> set[int]:
    """The reviewed boxes already added to the set (learning twice from one box would weigh it
    double)."""
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(class_examples.c.detection_id).where(
                    class_examples.c.set_id == set_id, class_examples.c.detection_id.is_not(None)
                )
            ).scalars()
        )


# --- uploads of example photos -------------------------------------------------------------


@dataclass(frozen=True)
class UploadRow:
    id: int
    set_id: int
    species: str | None
    file: str
    status: str
    added: int
    without_animal: list[str]
    error: str
    created_at: datetime
    finished_at: datetime | None


def create_upload(
    engine: Engine, set_id: int, species: str | None, file: str, now: datetime
) -> int:
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(class_uploads).values(
                set_id=set_id,
                species=check_species(species) if species else None,
                file=file,
                status="queued",
                added=0,
                without_animal=[],
                error="",
                created_at=now,
            )
        ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def get_upload(engine: Engine, upload_id: int) -> UploadRow | None:
    with engine.connect() as conn:
        row = conn.execute(select(class_uploads).where(class_uploads.c.id == upload_id)).first()
    return UploadRow(**row._mapping) if row is not None else None


def uploads_of(engine: Engine, set_id: int, limit: int = 20) -> list[UploadRow]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(class_uploads)
            .where(class_uploads.c.set_id == set_id)
            .order_by(class_uploads.c.id.desc())
            .limit(limit)
        ).all()
    return [UploadRow(**r._mapping) for r in rows]


def finish_upload(
    engine: Engine,
    upload_id: int,
    *,
    status: str,
    added: int = 0,
    without_animal: list[str] | None = None,
    error: str = "",
    now: datetime | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(class_uploads)
            .where(class_uploads.c.id == upload_id)
            .values(
                status=status,
                added=added,
                without_animal=without_animal or [],
                error=error,
                finished_at=now,
            )
        )
