"""Where uploads, work folders and result zips live under the data folder, by job id only."""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

# 24 random bytes, URL-safe base64: 32 characters, 192 bits. Nothing else is ever a job id.
JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_job_id() -> str:
    """A new id that starts with a letter or digit: one starting `-` would be taken for an
    option on a command line and, as the first characters of a Camtrap DP `filePath`, escaped
    as a spreadsheet formula (one id in 64 was, and its package named no real file)."""
    while True:
        job_id = secrets.token_urlsafe(24)
        if job_id[0].isalnum():
            return job_id


def is_job_id(value: str) -> bool:
    return bool(JOB_ID_PATTERN.fullmatch(value or ""))


@dataclass(frozen=True)
class Storage:
    root: Path

    def _checked(self, job_id: str) -> str:
        if not is_job_id(job_id):
            raise ValueError("not a job id")
        return job_id

    @property
    def uploads_root(self) -> Path:
        return self.root / "uploads"

    @property
    def work_root(self) -> Path:
        return self.root / "work"

    @property
    def results_root(self) -> Path:
        return self.root / "results"

    @property
    def thumbnails_root(self) -> Path:
        """The thumbnails and web renditions the site shows; they live as long as the result
        zip."""
        return self.root / "thumbnails"

    @property
    def drafts_root(self) -> Path:
        """Files dropped on the page before the form is submitted, per browser session."""
        return self.root / "drafts"

    @property
    def classes_root(self) -> Path:
        """Class sets' example crops (one folder per set) and uploaded example zips."""
        return self.root / "classes"

    def class_set_dir(self, set_id: int) -> Path:
        return self.classes_root / f"set-{int(set_id)}"

    def class_upload_file(self, upload_id: int) -> Path:
        return self.classes_root / "uploads" / f"{int(upload_id)}.zip"

    @property
    def projects_root(self) -> Path:
        """Each project's latest export (made again on request; removed with the project).
        Inside the results folder, so nginx sends it from the same internal location; the
        cleanup leaves it alone (it removes job results only)."""
        return self.results_root / "projects"

    def project_zip(self, project_id: int) -> Path:
        return self.projects_root / f"project-{int(project_id)}.zip"

    @property
    def truth_root(self) -> Path:
        """Truth files sent to evaluate a job, kept until a model server has compared them,
        and the report it wrote."""
        return self.root / "truth"

    def truth_dir(self, job_id: str) -> Path:
        return self.truth_root / self._checked(job_id)

    def upload_dir(self, job_id: str) -> Path:
        return self.uploads_root / self._checked(job_id)

    def work_dir(self, job_id: str) -> Path:
        return self.work_root / self._checked(job_id)

    def result_zip(self, job_id: str) -> Path:
        return self.results_root / f"{self._checked(job_id)}.zip"

    def reports_zip(self, job_id: str) -> Path:
        """An export of the reports without the annotated photos."""
        return self.results_root / f"{self._checked(job_id)}.reports.zip"

    def result_zips(self, job_id: str) -> list[Path]:
        """The job's zips that exist, newest first."""
        found = [p for p in (self.result_zip(job_id), self.reports_zip(job_id)) if p.is_file()]
        return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def thumbnail_dir(self, job_id: str) -> Path:
        return self.thumbnails_root / self._checked(job_id)

    def draft_dir(self, draft_id: str) -> Path:
        return self.drafts_root / self._checked(draft_id)

    def ensure(self) -> None:
        for folder in (
            self.uploads_root,
            self.work_root,
            self.results_root,
            self.drafts_root,
            self.thumbnails_root,
        ):
            folder.mkdir(parents=True, exist_ok=True)

    def upload_files(self, job_id: str) -> list[Path]:
        """The upload's top-level files and folders (dropped camera folders keep their
        structure); hidden entries such as `.job.json` are ours, not the researcher's."""
        folder = self.upload_dir(job_id)
        if not folder.is_dir():
            return []
        return sorted(
            p
            for p in folder.iterdir()
            if (p.is_file() or p.is_dir()) and not p.is_symlink() and not p.name.startswith(".")
        )

    def remove_job_files(self, job_id: str, *, keep_upload: bool = False) -> None:
        shutil.rmtree(self.work_dir(job_id), ignore_errors=True)
        if not keep_upload:
            shutil.rmtree(self.upload_dir(job_id), ignore_errors=True)
