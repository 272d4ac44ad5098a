"""Uploads built by the web tests from generated images and the real shared photos."""

from __future__ import annotations

import io
import zipfile

from tests.conftest import DATA
from tests.images import jpeg_bytes, red_patch_image

BURST = DATA / "camera-trap" / "camtrapR-burst-StationC-TRA"


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
    import re

    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
