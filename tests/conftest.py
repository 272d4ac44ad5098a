"""Fixtures shared by every test: the real third-party data beside the repo, and test models."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
MODELS = SHARED / "models"
YOLOX_TFLITE = MODELS / "yolox_nano_float16_quantize.tflite"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# every Camtrap DP package the tests' batch commands and model servers write is validated
# offline against the published 1.0.2 schemas beside the repo
os.environ.setdefault("TRAPLINE_CAMTRAP_DP_SCHEMAS", str(DATA / "camtrap-dp"))


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (DATA / "MANIFEST.md").is_file():
        raise pytest.UsageError(f"the shared test data is missing: expected {DATA}")


OPEN_SITES: list[Any] = []  # apps made by `open_site` in the running test


def open_site(settings: Any, config: dict[str, Any] | None = None) -> Any:
    """An app with settings of the test's own, closed by the fixture below as the test ends."""
    from web import create_app

    app = create_app({"TESTING": True, **(config or {})}, settings=settings)
    OPEN_SITES.append(app)
    return app


def close_site(app: Any) -> None:
    """The app's pooled database connections and Redis sockets, closed now."""
    app.extensions["trapline.store"].dispose()
    app.extensions["trapline.redis"].connection_pool.disconnect()


@pytest.fixture(autouse=True)
def _closes_what_it_opens() -> Iterator[None]:
    """Closes the apps the test opened, then collects garbage, so a file or socket it left open
    raises its ResourceWarning (an error here) in that test, not in whichever test runs next."""
    yield
    while OPEN_SITES:
        close_site(OPEN_SITES.pop())
    gc.collect()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def megadetector_lite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MegadetectorLite as `scripts/setup.sh` installs it into models/; installed into a
    temporary folder (from the package index) where it is not."""
    from model_server.detectors.megadetector_lite import FILENAME, install

    installed = REPO / "models" / FILENAME
    if installed.is_file() and installed.with_suffix(".json").is_file():
        return installed
    return install(tmp_path_factory.mktemp("mdlite"), report=lambda line: None)


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
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisConnectionError

        with Redis.from_url(self.url) as client:  # closed here, not by a later collection
            for _ in range(100):
                try:
                    client.ping()
                    return
                except RedisConnectionError:
                    time.sleep(0.05)  # a fresh process: polled until it answers
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


# --- the results database: SQLite by default, a real PostgreSQL for the session -------------


@pytest.fixture(scope="session")
def postgres_server():
    from tests.postgres import PostgresServer

    server = PostgresServer(free_port())
    server.start()
    yield server
    server.stop()


DATABASES = ["sqlite", "postgresql"]


def database_url_for(kind: str, request: pytest.FixtureRequest, folder: Path) -> str:
    """A fresh, empty database of that kind."""
    if kind == "postgresql":
        return request.getfixturevalue("postgres_server").new_database()
    return f"sqlite:///{folder / 'trapline.db'}"


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return database_url_for(request.param, request, tmp_path)


@pytest.fixture
def store(database_url: str):
    """A migrated store on each database in turn."""
    from shared.store import open_store

    engine = open_store(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer, red_patch_model: Path
):
    """The service's settings; `parametrize("settings", ["postgresql"], indirect=True)` puts
    its results database on the session's PostgreSQL instead of an SQLite file."""
    from shared.settings import Settings

    kind = getattr(request, "param", "sqlite")
    url = database_url_for(kind, request, tmp_path) if kind == "postgresql" else ""
    return Settings(
        data_dir=tmp_path / "data",
        redis_url=redis_server.url,
        model_path=red_patch_model,
        detection_threshold=0.4,
        database_url=url,
        camtrap_dp_schemas=DATA / "camtrap-dp",
    )


def pinned_clock() -> float:
    """The site's rate-limit clock in tests: one fixed instant, so the counts of a test never
    straddle the edge of a window (at 03:15:00 a 15-minute window turned over mid-test)."""
    return 1_800_000_030.0


@pytest.fixture
def app(settings, redis_conn):
    from web import create_app

    application = create_app(
        {"TESTING": True, "SERVER_NAME": "trapline.test", "TRAPLINE_CLOCK": pinned_clock},
        settings=settings,
    )
    yield application
    application.extensions["trapline.store"].dispose()
    # the site's own Redis client: its pooled sockets closed now, not by the garbage collector
    # at some later test (an unclosed-socket ResourceWarning there)
    application.extensions["trapline.redis"].connection_pool.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_worker(settings, redis_conn):
    """Runs queued jobs now, in this process, with a real RQ SimpleWorker in burst mode."""
    from rq.serializers import JSONSerializer

    from model_server.detectors import load_detector
    from model_server.service import jobs
    from model_server.service.worker import TraplineWorker
    from shared.contract import job_queue
    from shared.store import open_configured_store

    detector = load_detector(settings.model_path)
    store = open_configured_store(settings)
    jobs.install(detector, settings, store)

    def run() -> None:
        worker = TraplineWorker(
            [job_queue(redis_conn)], connection=redis_conn, serializer=JSONSerializer
        )
        worker.work(burst=True, with_scheduler=False)

    yield run
    detector.close()
    store.dispose()


@pytest.fixture
def workers(settings, tmp_path: Path):
    """Real model-server processes; every one still running is stopped after the test."""
    from tests.processes import Workers

    pool = Workers(settings, tmp_path)
    yield pool
    pool.stop_all()


def files_read_whole(app: Any) -> Any:
    """`app` with every file response read into memory and its file closed before it is sent.

    werkzeug's development server skips closing a response when the client resets the connection
    just after the last byte (reading the socket's remainder raises first): a thumbnail the
    browser dropped on navigating away was then closed by the garbage collector, as a
    ResourceWarning in a later test. Production servers (gunicorn behind nginx) close it."""

    def read_whole(file: Any, buffer_size: int = 8192) -> list[bytes]:
        with file:
            return [file.read()]

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.file_wrapper"] = read_whole
        return app(environ, start_response)

    return wrapped


@contextmanager
def serving(app: Any) -> Iterator[Any]:
    """The app on a real loopback port (werkzeug's threaded server); its `answered()` counts
    the connections it has finished with, so that a test can wait for them."""
    import threading

    from werkzeug.serving import ThreadedWSGIServer

    class CountingServer(ThreadedWSGIServer):
        finished = 0

        def process_request_thread(self, request: Any, client_address: Any) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                with counter:
                    self.finished += 1

        def answered(self) -> int:
            with counter:
                return self.finished

    counter = threading.Lock()
    app.config["SERVER_NAME"] = None
    server = CountingServer("127.0.0.1", free_port(), files_read_whole(app.wsgi_app))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def live_server(app):
    """The app on a real loopback port, for the browser."""
    with serving(app) as server:
        yield f"http://127.0.0.1:{server.server_port}"
