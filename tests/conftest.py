"""Fixtures shared by every test: the real third-party data beside the repo, and test models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
MODELS = SHARED / "models"
YOLOX_TFLITE = MODELS / "yolox_nano_float16_quantize.tflite"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (DATA / "MANIFEST.md").is_file():
        raise pytest.UsageError(f"the shared test data is missing: expected {DATA}")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def red_patch_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A frozen graph with MegaDetector's tensor names whose animal box is the red patch."""
    from tests.md_graph import build_red_patch_graph

    return build_red_patch_graph(tmp_path_factory.mktemp("models") / "red_patch_md.pb")


# --- a real redis-server, started once per session on a free port --------------------------

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise pytest.UsageError("redis-server is not installed: run scripts/setup.sh --test")
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from redis import Redis

        client = Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_conn(redis_server: RedisServer):
    from redis import Redis

    client = Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def settings(tmp_path: Path, redis_server: RedisServer, red_patch_model: Path):
    from shared.settings import Settings

    return Settings(data_dir=tmp_path / "data", redis_url=redis_server.url,
                    model_path=red_patch_model, detection_threshold=0.4)


@pytest.fixture
def app(settings, redis_conn):
    from web import create_app

    application = create_app({"TESTING": True, "SERVER_NAME": "trapline.test"}, settings=settings)
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_worker(settings, redis_conn):
    """Runs queued jobs now, in this process, with a real RQ SimpleWorker in burst mode."""
    from model_server import jobs
    from model_server.detectors import load_detector
    from model_server.worker import TraplineWorker
    from rq.serializers import JSONSerializer
    from shared.contract import job_queue

    detector = load_detector(settings.model_path)
    jobs.install(detector, settings)

    def run() -> None:
        worker = TraplineWorker([job_queue(redis_conn)], connection=redis_conn,
                                serializer=JSONSerializer)
        worker.work(burst=True, with_scheduler=False)

    yield run
    detector.close()


@pytest.fixture
def workers(settings, tmp_path: Path):
    """Real model-server processes; every one still running is stopped after the test."""
    from tests.processes import Workers

    pool = Workers(settings, tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture
def live_server(app):
    """The app on a real loopback port (werkzeug's threaded server), for the browser."""
    import threading

    from werkzeug.serving import make_server

    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
