"""Class sets: the researcher's own species, taught by example. `/classes` lists the sets and
makes new ones; a set's page shows each class's examples, how well the set tells its classes
apart (leave-one-out over the examples, a confusion matrix) and the uploads that taught it.
Example photos arrive as a zip (one per class, or one folder per class) and are worked on by a
model server; removing a class needs the admin login. The same through `/api/class-sets`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from redis.exceptions import RedisError

from shared.contract import enqueue_class_upload
from shared.people.projects import projects_of
from shared.people.roles import Can
from shared.species.classifier import FEW_EXAMPLES, leave_one_out
from shared.store.class_sets import (
    ClassSetError,
    SetRow,
    class_summaries,
    create_set,
    create_upload,
    example_crop,
    finish_upload,
    get_set,
    list_sets,
    load_classes,
    remove_class,
    set_threshold,
    uploads_of,
)
from web import resources
from web.access import signed_in
from web.admin import admin_required
from web.answers import answer
from web.audit_trail import note
from web.errors import Refusal
from web.model_facts import installed
from web.projects import project_for
from web.request_body import body_fields

bp = Blueprint("classes", __name__)
MAX_EVALUATED = 3000  # examples: leave-one-out beyond this takes too long for a page


def _set_or_404(name: str, need: Can = Can.READ) -> SetRow:
    """The set, if the caller may do `need` with it: anyone with a site-wide set, a project's
    members by their role with the project's (404 for others, as for every project's URL)."""
    found = get_set(resources.results_store(), name)
    if found is None:
        abort(404)
    if found.project_id is not None:
        project_for(found.project_id, need)
    return found


def usable_set(name: str, project_id: int | None) -> SetRow | None:
    """A set a job of `project_id` (None: the Inbox) may be classified with: site-wide, or that
    project's own."""
    found = get_set(resources.results_store(), name)
    if found is None or found.project_id not in (None, project_id):
        return None
    return found


def _visible_projects() -> list[int] | None:
    """Whose sets the caller sees besides the site-wide ones (None: every set, a site admin)."""
    user = signed_in()
    if user is None:
        return []
    if user.site_admin:
        return None
    return [project.id for project, _ in projects_of(resources.results_store(), user)]


def set_details(row: SetRow) -> dict[str, Any]:
    """A set as the page and the API show it: classes, thresholds, evaluation, uploads."""
    engine = resources.results_store()
    classes = load_classes(engine, row.id, row.overrides)
    summaries = class_summaries(engine, row.id)
    total = sum(s.examples for s in summaries)
    evaluation = None
    if len(classes.examples) >= 2 and total <= MAX_EVALUATED:
        result = leave_one_out(classes)
        evaluation = {
            "overall": result.overall,
            "accuracy": result.accuracy,
            "confusion": {k: dict(v) for k, v in result.confusion.items()},
            "warnings": result.warnings,
        }
    return {
        "name": row.name,
        "embedder": row.embedder or "(bound by the first examples)",
        "created_at": row.created_at.isoformat(),
        "classes": [
            {
                "species": s.species,
                "examples": s.examples,
                "threshold": classes.threshold(s.species),
                "threshold_set_by_hand": s.species in row.overrides,
                "few_examples": s.examples < FEW_EXAMPLES,
                "crops": [url_for("classes.crop", name=row.name, example_id=i) for i, _ in s.crops],
            }
            for s in summaries
        ],
        "evaluation": evaluation,
        "evaluation_note": None
        if evaluation or len(classes.examples) < 2
        else f"not worked out over more than {MAX_EVALUATED} examples",
        "uploads": [
            {
                "id": u.id,
                "species": u.species,
                "file": u.file,
                "status": u.status,
                "added": u.added,
                "without_animal": u.without_animal,
                "error": u.error,
                "created_at": u.created_at.isoformat(),
            }
            for u in uploads_of(engine, row.id)
        ],
    }


@bp.get("/classes")
def index() -> Any:
    sets = list_sets(resources.results_store(), _visible_projects())
    user = signed_in()
    mine = projects_of(resources.results_store(), user) if user is not None else []
    teaching = [
        (p.id, p.name)
        for p, role in mine
        if user and (user.site_admin or (role and Can.REVIEW in role.can))
    ]
    return render_template(
        "classes.html", sets=sets, projects=teaching, embedder_missing=embedder_missing()
    )


@bp.get("/classes/<name>")
def page(name: str) -> Any:
    row = _set_or_404(name)
    return render_template(
        "class_set.html", set=row, details=set_details(row), embedder_missing=embedder_missing()
    )


def embedder_missing() -> str:
    """Why class sets cannot be taught or used now, "" when they can: model servers run and
    none of them has a species embedder (with none running, work waits in the queue as
    detection does)."""
    models = installed()
    if not models or any(m.embedder for m in models):
        return ""
    return (
        "no species embedder is installed on the model servers, so class sets cannot be "
        "taught or used. Administrators: `trapline-models download yolox_nano_onnx --dir "
        "models` and TRAPLINE_SPECIES_EMBEDDER (see the docs, Researchers: Species)."
    )


@bp.get("/classes/<name>/crops/<int:example_id>.jpg")
def crop(name: str, example_id: int) -> Any:
    row = _set_or_404(name)
    file = example_crop(resources.results_store(), row.id, example_id)
    if file is None or "/" in file or "\\" in file:
        abort(404)
    path = resources.storage().class_set_dir(row.id) / file
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.get("/api/class-sets")
def api_list() -> Any:
    return jsonify(
        sets=[
            {
                "name": row.name,
                "embedder": row.embedder,
                "classes": classes,
                "project": row.project_id,
            }
            for row, classes in list_sets(resources.results_store(), _visible_projects())
        ]
    )


@bp.get("/api/class-sets/<name>")
def api_show(name: str) -> Any:
    return jsonify(set_details(_set_or_404(name)))


@bp.post("/api/class-sets")
def create() -> Any:
    body = body_fields()
    name = str(body.get("name") or "")
    raw = str(body.get("project") or "").strip()
    project_id: int | None = None
    if raw:
        if not raw.isdigit():
            raise Refusal(
                f"project is a project's number, not {raw!r}.", page=url_for("classes.index")
            )
        project_id = project_for(int(raw), Can.REVIEW)[0].id
    try:
        row = create_set(resources.results_store(), name, datetime.now(UTC), project_id=project_id)
    except ClassSetError as exc:
        raise Refusal(f"Not created: {exc}.", page=url_for("classes.index")) from exc
    if project_id is not None:
        note(project_id, "class_set:create", {"class_set": row.name})
    return answer(
        201,
        f"Class set {row.name!r} created; add a class with a zip of example photos.",
        url_for("classes.page", name=row.name),
        name=row.name,
    )


@bp.post("/api/class-sets/<name>/examples")
def add_examples(name: str) -> Any:
    """A zip of example photos: `file`, with `species` naming its class (else each photo's
    folder names it). A model server finds the animal in each and learns from it."""
    row = _set_or_404(name, Can.REVIEW)
    here = url_for("classes.page", name=row.name)
    upload = request.files.get("file")
    try:
        missing = embedder_missing()
        if missing:  # said before the zip is taken in, not after a model server tried it
            raise Refusal(f"Not added: {missing}", 409, page=here)
        if upload is None or not upload.filename:
            raise Refusal("Not added: attach a zip of example photos as `file`.", 400, page=here)
        if not upload.filename.lower().endswith(".zip"):
            raise Refusal("Not added: the examples come as a .zip file.", 400, page=here)
        species = (request.form.get("species") or "").strip() or None
        engine = resources.results_store()
        try:
            upload_id = create_upload(engine, row.id, species, upload.filename, datetime.now(UTC))
        except ClassSetError as exc:
            raise Refusal(f"Not added: {exc}.", page=here) from exc
        target = resources.storage().class_upload_file(upload_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        upload.save(target)
    finally:
        if upload is not None:
            upload.close()
    try:
        enqueue_class_upload(resources.redis(), upload_id)
    except RedisError:
        finish_upload(
            engine,
            upload_id,
            status="failed",
            error="the queue was unreachable; send the zip again",
            now=datetime.now(UTC),
        )
        target.unlink(missing_ok=True)
        raise Refusal("Not added: the queue is unreachable; please try again.", 503, page=here)
    what = f"class {species!r}" if species else "the classes its folders name"
    return answer(
        202,
        f"Received {upload.filename}: a model server is finding the animals "
        f"in it for {what}; this page shows when it is done.",
        here,
        upload=upload_id,
    )


@bp.post("/api/class-sets/<name>/thresholds")
def set_class_threshold(name: str) -> Any:
    """A class's "unknown" distance by hand: `species` and `threshold` (a cosine distance above
    0, at most 2; blank or null: calibrated from the examples again). Jobs classified after it
    use it; classify a job again to apply it there."""
    row = _set_or_404(name, Can.REVIEW)
    here = url_for("classes.page", name=row.name)
    body = body_fields(page=here)
    species = str(body.get("species") or "")
    raw = body.get("threshold")
    try:
        value = None if raw in (None, "") else float(raw)
        if value is not None and not 0 < value <= 2:
            raise ValueError
    except (TypeError, ValueError):
        raise Refusal(
            "Not saved: the threshold is a cosine distance above 0, at most 2.", page=here
        ) from None
    engine = resources.results_store()
    if species not in load_classes(engine, row.id).examples:
        raise Refusal(f"Not saved: the set has no class {species!r}.", 404, page=here)
    set_threshold(engine, row.id, species, value)
    said = f"{value:g}" if value is not None else "calibrated from its examples"
    return answer(
        200, f"The threshold of {species!r} is now {said}.", here, species=species, threshold=value
    )


@bp.get("/api/class-sets/<name>/uploads/<int:upload_id>")
def api_upload(name: str, upload_id: int) -> Any:
    row = _set_or_404(name)
    for found in uploads_of(resources.results_store(), row.id, limit=1000):
        if found.id == upload_id:
            return jsonify(
                id=found.id,
                status=found.status,
                added=found.added,
                without_animal=found.without_animal,
                error=found.error,
                species=found.species,
            )
    abort(404)


@bp.route("/api/class-sets/<name>/classes/<path:species>", methods=["DELETE"])
def api_remove(name: str, species: str) -> Any:
    return _removing(name, species)


@bp.post("/classes/<name>/remove")
def remove(name: str) -> Any:
    return _removing(name, request.form.get("species") or "")


def _removing(name: str, species: str) -> Any:
    """A project's set: its owners remove classes; a site-wide set: the site admin."""
    row = _set_or_404(name, Can.MANAGE)
    if row.project_id is not None:
        return _remove(row, species)
    return admin_required(_remove)(row, species)


def _remove(row: SetRow, species: str) -> Any:
    here = url_for("classes.page", name=row.name)
    crops = remove_class(resources.results_store(), row.id, species)
    if not crops:
        raise Refusal(f"Nothing removed: the set has no class {species!r}.", 404, page=here)
    folder = resources.storage().class_set_dir(row.id)
    for file in crops:
        (folder / file).unlink(missing_ok=True)
    return answer(
        200,
        f"Removed the class {species!r} and its {len(crops)} examples; the "
        "other classes are as they were.",
        here,
        removed=len(crops),
    )
