"""The job function's old address. RQ finds a job's function by its dotted name, and jobs queued
before the model server was regrouped into packages name `model_server.jobs.process_job`; this
keeps them runnable after an upgrade. New jobs name `model_server.service.jobs`."""

from model_server.service.jobs import process_job

__all__ = ["process_job"]
