"""Named exceptions used by both processes; each message is one a researcher or sysadmin can act
on."""

from __future__ import annotations


class TraplineError(Exception):
    """Base class: the message is meant to be shown to a person as it is."""


class SettingsError(TraplineError):
    """An environment variable is missing or holds a value that cannot be used."""


class ModelNotFoundError(TraplineError):
    """No detector model file where the settings say it is."""


class ModelLoadError(TraplineError):
    """The model file exists but cannot be loaded as a supported detector."""


class DownloadError(TraplineError):
    """A model download failed or produced a file that does not match its checksum."""


class InputError(TraplineError):
    """The batch as a whole cannot be processed (no images, unreadable archive...)."""


class NoImagesError(InputError):
    """The upload contained no image files at all."""


class ImageError(TraplineError):
    """One image cannot be processed; it becomes an error row and the batch goes on."""


class ResultsError(TraplineError):
    """The result zip or its reports could not be written (disk full, unwritable folder)."""


class JobCancelled(TraplineError):
    """The researcher or an admin cancelled the job; no partial result is kept."""


class JobLost(TraplineError):
    """This model server no longer owns the job (its lease lapsed and another server took it
    over, or an admin requeued it): it must stop and write nothing more."""


class TruthError(TraplineError):
    """A ground-truth file for evaluation cannot be read; the message names the row or field."""
