"""`trapline-batch --classes SET_OR_ZIP`: species suggestions in a batch run, from a class set
in the site's database (by name), or from a zip of example photos with one folder per class,
which builds a throwaway set for this run alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from model_server.detectors.base import Detector
from model_server.species.embedder import embedder_path, load_embedder
from model_server.species.examples import learn_from_zip
from model_server.species.step import SpeciesStep, species_step
from shared.errors import InputError
from shared.settings import Settings
from shared.store import open_configured_store, open_store
from shared.store.class_sets import add_examples, create_set


def batch_species(
    spec: str,
    settings: Settings,
    detector: Detector,
    scratch: Path,
    report: Callable[[str], None] = print,
    *,
    model: Path | None = None,
) -> SpeciesStep:
    """The species step for a batch run; `scratch` holds a throwaway set's database and crops.
    Without TRAPLINE_SPECIES_EMBEDDER the default embedder is looked for beside `model`."""
    found = embedder_path(settings.species_embedder, model or settings.model_path)
    embedder = load_embedder(found, threads=settings.inference_threads)
    path = Path(spec)
    if path.suffix.lower() != ".zip":
        return species_step(open_configured_store(settings), spec, lambda: embedder)
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    scratch.mkdir(parents=True, exist_ok=True)
    engine = open_store(f"sqlite:///{(scratch / 'classes.db').resolve()}")
    now = datetime.now(UTC)
    target = create_set(engine, "examples", now, embedder.name)
    learned = learn_from_zip(
        path,
        None,
        detector,
        embedder,
        scratch / "crops",
        max_file_bytes=settings.max_file_bytes,
        max_pixels=settings.max_image_pixels,
    )
    if not learned.examples:
        raise InputError(
            f"{path.name} taught no class: no animal was found in its photos "
            "(each class's photos go in a folder named for the class)"
        )
    add_examples(engine, target.id, learned.examples, now)
    classes = sorted({e.species for e in learned.examples})
    report(
        f"Class set from {path.name}: {len(learned.examples)} examples of "
        f"{len(classes)} classes ({', '.join(classes)}); "
        f"{len(learned.without_animal)} photos taught nothing"
    )
    for line in learned.without_animal[:20]:
        report(f"  {line}")
    return species_step(engine, "examples", lambda: embedder)
