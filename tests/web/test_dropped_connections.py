"""A browser that drops a connection as a file arrives (navigating away from a page of
thumbnails) leaves no open file behind in the test server."""

from __future__ import annotations

import socket
import struct

import requests

from tests.conftest import serving
from tests.processes import wait_for

RESETS = 200


def test_files_are_closed_when_the_client_resets_the_connection(app, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>Trapline</h1>")
    photo = bytes(range(256)) * 80
    (site / "photo.jpg").write_bytes(photo)
    app.config["TRAPLINE_DOCS_SITE"] = str(site)
    with serving(app) as server:
        for _ in range(RESETS):
            with socket.create_connection(("127.0.0.1", server.server_port)) as client:
                client.sendall(b"GET /docs/photo.jpg HTTP/1.1\r\nHost: trapline\r\n\r\n")
                assert client.recv(12) == b"HTTP/1.1 200"
                # a reset (RST), not a polite close, as a browser ends a request it abandons
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        wait_for(lambda: server.answered() == RESETS, timeout=30, what="every reset answered")
        # the server still answers in full; the autouse fixture's garbage collection turns a
        # file left open by any of the reset requests into an error in this test
        response = requests.get(f"http://127.0.0.1:{server.server_port}/docs/photo.jpg", timeout=10)
        assert response.content == photo
