"""The project export job (JobKind.PROJECT_EXPORT): every finished card of a project as one
export, run as a follow-up on the project's export record (`shared.surveys.project_exports`),
so it is leased, fenced and recovered as a job's export is."""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from model_server.outputs.project_export import ProjectTarget, write_project_outputs
from model_server.service.follow_up import FollowUp, run_follow_up
from model_server.service.jobs import runtime
from shared.contract import load_state
from shared.errors import JobLost, ResultsError
from shared.logs import job_context
from shared.people.projects import job_ids_of, project_by_id
from shared.storage import Storage

log = logging.getLogger(__name__)
DEFECT = (
    "The server failed while making the export (its log says why). The cards' own results "
    "are unchanged; ask the administrators."
)


def export_project(record_id: str) -> dict[str, object]:
    """RQ entry point for JobKind.PROJECT_EXPORT."""
    with job_context(record_id):
        return run_follow_up(record_id, _export)


def _export(follow_up: FollowUp) -> dict[str, object]:
    rt = runtime()
    state = load_state(follow_up.redis, follow_up.job_id)
    wanted = state.project if state is not None else 0
    project = project_by_id(rt.store, wanted) if wanted else None
    if project is None:
        log.warning("record %s: its project is gone; nothing exported", follow_up.job_id)
        return {"status": "skipped"}
    storage = Storage(rt.settings.data_dir)
    storage.projects_root.mkdir(parents=True, exist_ok=True)
    storage.work_root.mkdir(parents=True, exist_ok=True)

    def progress(stage: str, done: int) -> None:
        follow_up.write(export_progress={"stage": stage, "done": done})

    with tempfile.TemporaryDirectory(prefix=f"project-{project.id}-", dir=storage.work_root) as tmp:
        target = ProjectTarget(
            rt.store,
            project,
            job_ids_of(rt.store, project.id),
            Path(tmp) / "reports",
            storage.project_zip(project.id),
            rt.settings.camtrap_dp_schemas,
        )
        try:
            summary = write_project_outputs(
                target,
                now=datetime.now(UTC),
                may_publish=follow_up.still_owner,
                progress=progress,
            )
        except JobLost:
            log.warning("project %d: the export was replaced; not published", project.id)
            return {"status": "skipped"}
        except ResultsError as exc:
            follow_up.closing.update(follow_up_error=str(exc), export_progress={})
            log.warning("project %d: not exported: %s", project.id, exc)
            return {"status": "failed", "error": str(exc)}
        except Exception:
            # a defect: the page says so instead of an export that seems to wait for ever
            follow_up.closing.update(follow_up_error=DEFECT, export_progress={})
            raise
    follow_up.write(summary=summary, exported_at=time.time(), export_progress={})
    log.info(
        "project %d: exported, %d cards, %d files", project.id, summary["cards"], summary["images"]
    )
    return {"status": "exported", "cards": summary["cards"], "images": summary["images"]}
