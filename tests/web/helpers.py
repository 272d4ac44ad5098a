"""Uploads built by the web tests from generated images and the real shared photos."""

from __future__ import annotations

import io
import zipfile

from tests.conftest import DATA
from tests.images import jpeg_bytes, red_patch_image

BURST = DATA / "camera-trap" / "camtrapR-burst-StationC-TRA"
# What a script sends: with no TRAPLINE_API_KEY configured any value marks a script, which
# needs no CSRF token (a browser cannot add this header to a cross-site request)
SCRIPT = {"X-API-Key": "a script"}


def photo(i: int = 0) -> bytes:
    return jpeg_bytes(red_patch_image((160, 120), (10 + i, 10, 50 + i, 40)))


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def form(email: str = "ranger@example.org", files: list[tuple[bytes, str]] | None = None) -> dict:
    data: dict = {"email": email}
    if files is not None:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return data


def csrf_token(client) -> str:
    """The token a browser gets with the page; browser forms must send it back."""
    return page_fields(client)["csrf_token"]


def page_fields(client) -> dict[str, str]:
    """What one load of the upload page gives its browser: the CSRF token and its own draft."""
    import re

    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    draft = re.search(r'name="draft" value="([^"]+)"', page)
    assert token and draft, "the upload page lost its token or draft field"
    return {"csrf_token": token.group(1), "draft": draft.group(1)}


def send_chunks(
    client,
    fields: dict[str, str],
    data: bytes,
    name: str,
    *,
    step: int = 1000,
    uuid: str = "0b5d4c2e-1111-4222-8333-444455556666",
    fullpath: str = "",
):
    """Sends `data` as Dropzone does, in chunks of `step` bytes; returns the last response."""
    response = None
    for index in range(max(1, -(-len(data) // step))):
        response = post_chunk(
            client, fields, data, name, index, step=step, uuid=uuid, fullpath=fullpath
        )
        if response.status_code != 200:
            return response
    return response


def post_chunk(
    client,
    fields: dict[str, str],
    data: bytes,
    name: str,
    index: int,
    *,
    step: int = 1000,
    uuid: str = "0b5d4c2e-1111-4222-8333-444455556666",
    fullpath: str = "",
):
    """Chunk `index` of `data` (in chunks of `step` bytes), as Dropzone sends it."""
    return chunk_post(
        client,
        fields,
        data[index * step : (index + 1) * step],
        name,
        uuid=uuid,
        index=index,
        chunks=max(1, -(-len(data) // step)),
        size=len(data),
        offset=index * step,
        fullpath=fullpath,
    )


def chunk_post(
    client,
    fields: dict[str, str],
    body: bytes,
    name: str,
    *,
    uuid: str,
    index: int,
    chunks: int,
    size: int,
    offset: int,
    fullpath: str = "",
):
    """One chunk with the Dropzone fields given as they are (a test may make them lie)."""
    import io

    return client.post(
        "/upload/chunk",
        content_type="multipart/form-data",
        headers={"X-CSRFToken": fields["csrf_token"]},
        data={
            "dzuuid": uuid,
            "dzchunkindex": str(index),
            "dztotalchunkcount": str(chunks),
            "dzchunkbyteoffset": str(offset),
            "dztotalfilesize": str(size),
            "draft": fields["draft"],
            "fullpath": fullpath,
            "file": (io.BytesIO(body), name),
        },
    )
