"""A corpus of hostile and broken uploads, built here, each with its exact outcome: a clear
refusal or an error row, the other files processed, nothing written outside the job's folder."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import pytest

from model_server.detectors import load_detector
from model_server.pipeline.batch import run_batch
from model_server.pipeline.options import PipelineOptions
from shared import inputs
from shared.errors import InputError
from shared.inputs import collect_inputs
from tests.images import jpeg_bytes, png_bomb_header, red_patch_image
from tests.web.helpers import SCRIPT, form, zip_of

GOOD = jpeg_bytes(red_patch_image((160, 120), (10, 10, 60, 50)))


def encoded(mode: str, fmt: str, **save: object) -> bytes:
    image = red_patch_image((96, 72), (4, 4, 40, 30)).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def animated(fmt: str) -> bytes:
    frames = [red_patch_image((64, 48), (i, i, i + 20, i + 20)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def entry(name: str, data: bytes, mode: int | None = None) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    return info, data


def hostile_zip(path: Path) -> Path:
    long_name = "L" * 240 + ".jpg"
    members = [
        entry("ok/plain.jpg", GOOD),
        entry("../../../../tmp/escape.jpg", GOOD),
        entry("/etc/absolute.jpg", GOOD),
        entry("C:\\Windows\\win.jpg", GOOD),
        entry("link.jpg", b"/etc/passwd", mode=0o120777),  # a symbolic link entry
        entry("dev.jpg", b"", mode=0o020666),  # a character device entry
        entry("secret.jpg", GOOD),  # marked encrypted below
        entry("inner.zip", zip_of({"deep.jpg": GOOD})),  # nested zip: not opened
        entry("dup.jpg", GOOD),
        entry("dup.jpg", GOOD),  # duplicate name
        entry("Case.jpg", GOOD),
        entry("case.JPG", GOOD),  # differs only in case
        entry(f"long/{long_name}", GOOD),
        entry("cafX.jpg", GOOD),  # renamed below to a cp437 (non-UTF-8) name
        entry("$(reboot);`id` | rm -rf ~.jpg", GOOD),  # shell characters: never reach a shell
        entry("img/cmyk.jpg", encoded("CMYK", "JPEG")),
        entry("img/sixteen.png", encoded("I;16", "PNG")),
        entry("img/palette.png", encoded("P", "PNG", transparency=0)),
        entry("img/alpha.png", encoded("RGBA", "PNG")),
        entry("img/anim.webp", animated("WEBP")),
        entry("img/anim.gif", animated("GIF")),
        entry("bad/page.jpg", b"<html><script>alert(1)</script></html>"),
        entry("bad/tool.jpg", b"MZ\x90\x00" + b"\x00" * 200),
        entry("bad/bomb.png", png_bomb_header(60_000, 60_000)),
        entry("bad/empty.jpg", b""),
        entry("bad/<b>cam</b>.jpg", b"not a photo"),  # markup in a name the job page lists
    ]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate name
        with zipfile.ZipFile(buffer, "w") as archive:
            for info, data in members:
                archive.writestr(info, data)
    raw = bytearray(buffer.getvalue().replace(b"cafX.jpg", b"caf\x82.jpg"))  # 0x82 is é in cp437
    set_encrypted_flag(raw, b"secret.jpg")
    path.write_bytes(bytes(raw))
    return path


def set_encrypted_flag(raw: bytearray, name: bytes) -> None:
    """zipfile cannot write encrypted entries; set bit 0 of the flags as an encrypting tool does."""
    local = raw.find(name) - 30  # the local header ends with the name
    central = raw.find(name, local + 31) - 46
    assert raw[local : local + 4] == b"PK\x03\x04" and raw[central : central + 4] == b"PK\x01\x02"
    raw[local + 6] |= 0x1
    raw[central + 8] |= 0x1


def run(tmp_path: Path, upload: Path, red_patch_model: Path, **opts):
    limit = {"max_file_bytes": opts["max_file_bytes"]} if "max_file_bytes" in opts else {}
    result = run_batch(
        collect_inputs([upload], **limit),
        load_detector(red_patch_model),
        tmp_path / "data" / "work",
        tmp_path / "data" / "result.zip",
        PipelineOptions(threshold=0.4, **opts),
    )
    with zipfile.ZipFile(tmp_path / "data" / "result.zip") as archive:
        images = {im["file"]: im for im in json.loads(archive.read("detections.json"))["images"]}
        names = archive.namelist()
    return result, images, names


def test_hostile_zip_every_entry_has_its_exact_outcome(
    tmp_path: Path, red_patch_model: Path
) -> None:
    upload = hostile_zip(tmp_path / "upload.zip")
    before = {p for p in tmp_path.rglob("*")}
    result, images, names = run(tmp_path, upload, red_patch_model)
    processed = {
        "ok/plain.jpg",
        "tmp/escape.jpg",
        "etc/absolute.jpg",
        "Windows/win.jpg",
        "dup.jpg",
        "dup~2.jpg",
        "Case.jpg",
        "case~2.JPG",
        f"long/{'L' * 240}.jpg",
        "café.jpg",
        "img/cmyk.jpg",
        "$(reboot);`id` | rm -rf ~.jpg",
        "img/sixteen.png",
        "img/palette.png",
        "img/alpha.png",
        "img/anim.webp",
    }
    failed = {
        "secret.jpg": "encrypted inside the zip",
        "bad/page.jpg": "not a readable image",
        "bad/tool.jpg": "not a readable image",
        "bad/bomb.png": "safety limit",
        "bad/empty.jpg": "empty (0 bytes)",
        "bad/<b>cam</b>.jpg": "not a readable image",
    }
    assert set(images) == processed | set(failed)
    for name in processed:
        assert images[name]["detections"] is not None, name
        assert name in names
        if name != "img/sixteen.png":  # 16-bit greyscale: decoded, but no red left to find
            assert any(d["category"] == "1" for d in images[name]["detections"]), name
    assert (images["img/sixteen.png"]["width"], images["img/sixteen.png"]["height"]) == (96, 72)
    for name, words in failed.items():
        assert words in images[name].get("failure", ""), (name, images[name])
    # not images at all: listed as skipped, never opened
    assert sorted(result.run.skipped) == ["dev.jpg", "img/anim.gif", "inner.zip", "link.jpg"]
    # every name in the result is relative and plain; nothing was written outside data/
    assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
    created = {p for p in tmp_path.rglob("*")} - before
    assert all(p.is_relative_to(tmp_path / "data") for p in created)
    assert not Path("/tmp/escape.jpg").exists()


def test_huge_entry_is_refused_without_unpacking_it(tmp_path: Path, red_patch_model: Path) -> None:
    upload = tmp_path / "bomb.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("fine.jpg", GOOD)
        with archive.open("zeros.jpg", "w", force_zip64=True) as fh:  # 64 MB that packs to ~64 KB
            for _ in range(64):
                fh.write(b"\0" * (1 << 20))
    assert upload.stat().st_size < 1_000_000
    _, images, _ = run(tmp_path, upload, red_patch_model, max_file_bytes=16 * 1024 * 1024)
    assert "over the 16,777,216-byte limit" in images["zeros.jpg"]["failure"]
    assert images["fine.jpg"]["detections"]


def test_entry_lying_about_its_size_is_an_error_row(tmp_path: Path, red_patch_model: Path) -> None:
    upload = tmp_path / "liar.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("fine.jpg", GOOD)
        archive.writestr("liar.jpg", GOOD)
    raw = bytearray(upload.read_bytes())
    # shrink the declared uncompressed size of liar.jpg in its central-directory record
    at = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"liar.jpg"))
    raw[at + 24 : at + 28] = (100).to_bytes(4, "little")
    upload.write_bytes(bytes(raw))
    _, images, _ = run(tmp_path, upload, red_patch_model)
    assert "damaged inside the zip" in images["liar.jpg"]["failure"]
    assert images["fine.jpg"]["detections"]


def test_too_many_entries_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_ENTRIES", 50)
    upload = tmp_path / "many.zip"
    upload.write_bytes(zip_of({f"{i}.jpg": b"x" for i in range(51)}))
    with pytest.raises(InputError, match="holds 51 files; at most 50"):
        collect_inputs([upload])


def test_hostile_upload_through_the_service(client, run_worker, redis_conn, tmp_path: Path) -> None:
    upload = hostile_zip(tmp_path / "upload.zip")
    response = client.post(
        "/api/jobs",
        data=form(files=[(upload.read_bytes(), "trap <b>cam</b>.zip")]),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 201
    job_id = response.get_json()["id"]
    run_worker()
    status = client.get(f"/api/jobs/{job_id}").get_json()
    assert status["status"] == "finished" and status["summary"]["errors"] == 6
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    # the broken file's name is listed among the failures, escaped: never as markup
    assert "bad/&lt;b&gt;cam&lt;/b&gt;.jpg" in page
    assert "<b>cam</b>" not in page
    assert client.get("/healthz").status_code == 200  # the service keeps running
