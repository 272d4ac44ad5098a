"""`trapline-worker`: the long-running model server.

It loads the detector once (waiting, and saying so on the site, while no model is installed),
then takes jobs from Redis in this same process: RQ's SimpleWorker, because forking after
TensorFlow has run hangs, and reloading the model per job costs seconds.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from types import FrameType

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy.exc import SQLAlchemyError

from model_server.detectors import MODEL_HELP, load_detector
from model_server.detectors.base import Detector
from model_server.service import jobs
from model_server.service.job_progress import confirm_lease
from model_server.service.recovery import recover
from model_server.species.embedder import embedder_path
from shared.contract import NOTICE_KEY, job_queue
from shared.errors import ModelLoadError, ModelNotFoundError
from shared.job_index import ensure_indexes
from shared.leases import forget_lapsed
from shared.logs import configure_logging
from shared.model_facts import ModelFacts
from shared.model_servers import beat, leave
from shared.settings import Settings, settings_for_command
from shared.storage import Storage
from shared.store import open_configured_store

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10


class TraplineWorker(SimpleWorker):
    """On SIGTERM the running job is released at the next image (its checkpoint kept), rather
    than the stop waiting hours for a large batch to finish."""

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        jobs.stopping.set()
        super().request_stop(signum, frame)

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up, which its work loop does not guard: Redis going away during
        it (the first thing a worker does) made the whole model server quit. Here the clean-up
        waits for the next loop, and the loop's own wait for Redis rides out the outage."""
        try:
            super().run_maintenance_tasks()
        except RedisError as exc:
            log.warning("Redis is unreachable (%s); RQ's registry clean-up runs later", exc)


Loader = Callable[..., Detector]  # (model path, threads=, inter_threads=) -> the detector


def _wait_for_model(settings: Settings, redis: Redis, poll: float, load: Loader) -> Detector:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            path = settings.model_path
            try:
                if path is None:
                    raise ModelNotFoundError(f"TRAPLINE_MODEL_PATH is not set. {MODEL_HELP}")
                return load(
                    path,
                    threads=settings.inference_threads,
                    inter_threads=settings.inference_inter_threads,
                )
            except (ModelNotFoundError, ModelLoadError) as exc:
                log.error("no usable detector model: %s (checking again in %.0f s)", exc, poll)
                try:
                    redis.set(NOTICE_KEY, str(exc), ex=int(max(poll * 3, 30)))
                except RedisConnectionError:
                    pass
                stop.wait(poll)
        raise SystemExit(0)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _facts(detector: Detector, settings: Settings) -> ModelFacts:
    """What the site says about this server's model, and whether it can classify species."""
    embedder = embedder_path(settings.species_embedder, settings.model_path)
    found = embedder.name if embedder is not None and embedder.is_file() else ""
    return replace(detector.info.facts(), embedder=found)


def _heartbeat(
    redis: Redis, settings: Settings, name: str, model: ModelFacts, stop: threading.Event
) -> None:
    """This server's liveness (/healthz counts live servers) and the leases of the work running
    here. Nothing slow runs on this thread: a lapse would make the site say no server runs."""
    interval = min(HEARTBEAT_SECONDS, max(settings.lease_seconds / 3, 0.5))
    while not stop.is_set():
        try:
            beat(redis, name, model.name, facts=model)
            redis.delete(NOTICE_KEY)
            for lease in list(jobs.running.values()):
                if not confirm_lease(redis, lease, settings.lease_seconds):
                    log.warning(
                        "job %s: lease no longer ours; the work stops at its next step",
                        lease.job_id,
                    )
            forget_lapsed(redis, time.time() - settings.lease_seconds * 10)
        except RedisError as exc:
            log.warning("Redis is unreachable (%s); heartbeat skipped", exc)
        stop.wait(interval)
    try:
        leave(redis, name)
    except RedisConnectionError:
        pass


def _recovery(redis: Redis, settings: Settings, stop: threading.Event) -> None:
    """The periodic sweep for work whose model server died, on its own thread so that a long
    sweep never delays the heartbeat."""
    storage = Storage(settings.data_dir)
    while not stop.wait(settings.recovery_seconds):
        try:
            recover(redis, storage, settings, engine=jobs.runtime().store)
        except RedisError as exc:
            log.warning("Redis is unreachable (%s); recovery sweep skipped", exc)
        except SQLAlchemyError as exc:
            log.warning("the results database is unreachable (%s); class uploads not checked", exc)


def main(argv: list[str] | None = None, load: Loader = load_detector) -> int:
    """`load` makes the detector from the model path (a benchmark's stand-in replaces it)."""
    parser = argparse.ArgumentParser(prog="trapline-worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument(
        "--name",
        help="start of the worker's name, e.g. the systemd instance; "
        "a random suffix is always added (default: the host name)",
    )
    parser.add_argument(
        "--model-poll",
        type=float,
        default=30.0,
        help="seconds between checks while no model is installed",
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = settings_for_command(log)
    if settings is None:
        return 2
    storage = Storage(settings.data_dir)
    storage.ensure()
    redis = Redis.from_url(settings.redis_url, health_check_interval=30)
    detector = _wait_for_model(settings, redis, args.model_poll, load)
    # Unique per process: a server restarted right after kill -9 must not collide with the
    # registration its dead predecessor left in Redis ("There exists an active worker named").
    name = f"{args.name or socket.gethostname()}-{uuid.uuid4().hex[:6]}"
    jobs.install(detector, settings, open_configured_store(settings), name)
    worker = TraplineWorker(
        [job_queue(redis)], connection=redis, name=name, serializer=JSONSerializer
    )
    stop = threading.Event()
    try:
        ensure_indexes(redis)  # once, after an upgrade from a release without them
        # warm start: orphans and uploads that missed the queue
        recover(redis, storage, settings, engine=jobs.runtime().store)
    except (RedisError, SQLAlchemyError) as exc:
        log.warning("Redis or the database unreachable at start (%s); recovery runs later", exc)
    threads = [
        threading.Thread(
            target=_heartbeat,
            args=(redis, settings, name, detector.info.facts(), stop),
            daemon=True,
        ),
        threading.Thread(target=_recovery, args=(redis, settings, stop), daemon=True),
    ]
    for thread in threads:
        thread.start()
    log.info("model server %s ready with %s", name, detector.info.name)
    try:
        worker.work(burst=args.burst, logging_level="INFO", with_scheduler=False)
    except RedisError as exc:  # RQ's own farewell needs Redis; stopping during an outage is fine
        log.warning("model server %s stopped while Redis was unreachable (%s)", name, exc)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        detector.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
