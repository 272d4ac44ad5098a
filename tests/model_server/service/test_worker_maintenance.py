"""RQ's work loop quits on any error in its registry clean-up: the model server guards it, so a
Redis outage at that moment (as a server starts) is ridden out like any other."""

from __future__ import annotations

import logging
import socket

import pytest
from redis import Redis
from rq.serializers import JSONSerializer

from model_server.service.worker import TraplineWorker
from shared.contract import job_queue


def test_registry_clean_up_without_redis_is_put_off(
    redis_conn, caplog: pytest.LogCaptureFixture
) -> None:
    worker = TraplineWorker(
        [job_queue(redis_conn)], connection=redis_conn, serializer=JSONSerializer
    )
    with socket.socket() as closed:  # a loopback port nobody listens on: Redis is gone
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gone = Redis(port=port, socket_connect_timeout=1)
    try:
        worker.connection = gone
        for queue in worker.queues:
            queue.connection = gone
        caplog.set_level(logging.WARNING)
        worker.run_maintenance_tasks()  # RQ's own raises ConnectionError here
    finally:
        gone.close()
    assert "RQ's registry clean-up runs later" in caplog.text
