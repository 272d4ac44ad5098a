"""The model download command against a real local HTTP server that supports Range requests and
can drop the connection half-way, as a flaky field-station link would."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from model_server.detectors.download import MODELS, ModelSource, download, install_file, main
from shared.errors import DownloadError

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    def __init__(self) -> None:
        self.cut_after: int | None = None  # bytes sent before the connection is dropped, once
        self.requests: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.headers.get("Range"))
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                body = PAYLOAD[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    limit, server.cut_after = server.cut_after, None
                    self.wfile.write(body[:limit])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/model.pb"

    def source(self, sha: str | None = SHA) -> ModelSource:
        return ModelSource("test", "model.pb", self.url, sha, "test model")


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_download_verifies_and_writes_in_place(server: Server, tmp_path: Path) -> None:
    path = download(server.source(), tmp_path)
    assert path == tmp_path / "model.pb" and path.read_bytes() == PAYLOAD
    assert not (tmp_path / "model.pb.part").exists()
    assert download(server.source(), tmp_path) == path  # present and verified: no new request
    assert len(server.requests) == 1


def test_broken_download_resumes_where_it_stopped(server: Server, tmp_path: Path) -> None:
    server.cut_after = 1024 * 1024
    path = download(server.source(), tmp_path, timeout=5)
    assert path.read_bytes() == PAYLOAD
    assert server.requests[0] is None
    assert server.requests[1] == f"bytes={1024 * 1024}-"


def test_mismatching_file_is_refused_and_removed(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="expected"):
        download(server.source("0" * 64), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_with_wrong_checksum_is_not_overwritten(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / "model.pb").write_bytes(b"someone else's file")
    with pytest.raises(DownloadError, match="does not match"):
        download(server.source(), tmp_path)
    assert (tmp_path / "model.pb").read_bytes() == b"someone else's file"


def test_unpinned_model_needs_an_explicit_checksum(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="--sha256"):
        download(server.source(None), tmp_path)
    assert download(server.source(None), tmp_path, sha256=SHA).read_bytes() == PAYLOAD


def test_unreachable_server_keeps_nothing_half_done(tmp_path: Path) -> None:
    source = ModelSource("x", "x.pb", "http://127.0.0.1:9/x.pb", SHA, "nothing listens on port 9")
    with pytest.raises(DownloadError, match="could not download"):
        download(source, tmp_path, attempts=1, timeout=2)
    assert not (tmp_path / "x.pb").exists()


def test_cli_lists_models_and_their_checksums(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "md_v4.1" in out and "md_v3" in out and "yolox_nano" in out
    assert (
        MODELS["yolox_nano"].sha256
        == "6518faf758f5827fb8412c38d2240b7722027c299596518e1f94e678af1e6e29"
    )


def test_pinned_yolox_checksum_matches_the_shared_file() -> None:
    from tests.conftest import YOLOX_TFLITE

    assert hashlib.sha256(YOLOX_TFLITE.read_bytes()).hexdigest() == MODELS["yolox_nano"].sha256
    onnx = YOLOX_TFLITE.with_name("yolox_nano.onnx")
    assert hashlib.sha256(onnx.read_bytes()).hexdigest() == MODELS["yolox_nano_onnx"].sha256


def test_keras_weights_are_checked_with_the_md5_keras_publishes(
    server: Server, tmp_path: Path
) -> None:
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    source = ModelSource("k", "w.h5", server.url, None, "Keras weights", md5=md5)
    assert download(source, tmp_path).read_bytes() == PAYLOAD
    wrong = ModelSource("k", "x.h5", server.url, None, "Keras weights", md5="0" * 32)
    with pytest.raises(DownloadError, match="expected 0000"):
        download(wrong, tmp_path)
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "x.h5.part").exists()


def test_the_mobilenet_entry_pins_what_keras_itself_checks() -> None:
    """The file name and MD5 are Keras's own (its MobileNetV3 source, in the installed Keras)."""
    from keras.src.applications import mobilenet_v3

    entry = MODELS["mobilenet_v3_imagenet"]
    assert entry.md5 == mobilenet_v3.WEIGHTS_HASHES["large_224_1.0_float"][1]
    assert entry.url == mobilenet_v3.BASE_WEIGHT_PATH + entry.filename
    assert entry.setting == "TRAPLINE_SPECIES_EMBEDDER"


def test_a_copy_the_sysadmin_has_is_installed_after_its_checksum(
    server: Server, tmp_path: Path
) -> None:
    """For a machine that cannot reach the official release: the file is checked as a download
    is, and a wrong one leaves nothing behind."""
    copy = tmp_path / "copy.bin"
    copy.write_bytes(PAYLOAD)
    models = tmp_path / "models"
    path = install_file(server.source(), copy, models)
    assert path == models / "model.pb" and path.read_bytes() == PAYLOAD
    assert install_file(server.source(), copy, models) == path  # present and verified
    assert server.requests == []  # nothing was downloaded
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(PAYLOAD[:-1])
    with pytest.raises(DownloadError, match="from .*wrong.bin has checksum"):
        install_file(server.source(), wrong, tmp_path / "other")
    assert list((tmp_path / "other").iterdir()) == []


def test_cli_installs_the_embedder_from_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import MODELS as SHARED_MODELS

    shared = SHARED_MODELS / "yolox_nano.onnx"
    argv = ["download", "yolox_nano_onnx", "--dir", str(tmp_path), "--file", str(shared)]
    assert main(argv) == 0
    assert (tmp_path / "yolox_nano.onnx").read_bytes() == shared.read_bytes()
    assert "sha256 verified" in capsys.readouterr().out
    tflite = SHARED_MODELS / "yolox_nano_float16_quantize.tflite"
    other = ["download", "yolox_nano_onnx", "--dir", str(tmp_path / "x"), "--file", str(tflite)]
    assert main(other) == 1
    assert "expected 695e750a" in capsys.readouterr().err
