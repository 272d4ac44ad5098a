"""Images and zips whose sizes are the attack: copies a format cannot hold, 16-bit frames, shared
zip data, zips that unpack far past their size, and a pipeline full of huge photos."""

from __future__ import annotations

import io
import json
import struct
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import piexif
import pytest
from PIL import Image

from model_server.detectors import load_detector
from model_server.media.pixel_budget import PixelBudget
from model_server.pipeline.batch import run_batch
from model_server.pipeline.options import PipelineOptions
from shared.errors import InputError
from shared.inputs import collect_inputs
from tests.conftest import DATA, YOLOX_TFLITE
from tests.images import red_patch_image

ENA = DATA / "camera-trap" / "ena24"


def png(image: Image.Image, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **save)
    return out.getvalue()


def batch(folder: Path, tmp_path: Path, model: Path, **opts: Any) -> tuple[Any, dict, set]:
    result = run_batch(
        collect_inputs([folder]),
        load_detector(model),
        tmp_path / "work",
        tmp_path / "r.zip",
        PipelineOptions(threshold=0.4, **opts),
    )
    with zipfile.ZipFile(tmp_path / "r.zip") as z:
        images = {im["file"]: im for im in json.loads(z.read("detections.json"))["images"]}
        rows = {r.split(",")[0]: r for r in z.read("images.csv").decode("utf-8-sig").splitlines()}
        return result, {"images": images, "rows": rows}, set(z.namelist())


def test_copies_a_format_cannot_hold_are_fitted_not_fatal(
    tmp_path: Path, red_patch_model: Path
) -> None:
    """PNG data under .jpg/.webp names: too much EXIF for a JPEG, too wide for WebP and JPEG.
    Each used to fail the whole job as 'could not write the results'."""
    folder = tmp_path / "in"
    folder.mkdir()
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: b"Cam"},
            "Exif": {piexif.ExifIFD.UserComment: b"ASCII\0\0\0" + b"x" * 70_000},
        }
    )
    assert len(exif) > 65_533
    (folder / "big_exif.jpg").write_bytes(
        png(red_patch_image((300, 200), (20, 20, 90, 80)), exif=exif)
    )
    (folder / "wide.webp").write_bytes(png(red_patch_image((16_400, 40), (10, 5, 400, 35))))
    (folder / "wider.jpg").write_bytes(png(red_patch_image((65_600, 12), (10, 2, 900, 10))))
    (folder / "plain.jpg").write_bytes(png(red_patch_image((160, 120), (10, 10, 60, 50))))
    result, out, names = batch(folder, tmp_path, red_patch_model)
    assert result.tally.images == 4 and result.tally.errors == 0
    assert {"big_exif.jpg", "wide.webp", "wider.jpg", "plain.jpg"} <= names
    assert "annotated copy has no EXIF" in out["rows"]["big_exif.jpg"]
    assert (
        "scaled down to 16383x39: WEBP holds at most 16383 pixels a side"
        in out["rows"]["wide.webp"]
    )
    assert "JPEG holds at most 65500 pixels a side" in out["rows"]["wider.jpg"]
    with (
        zipfile.ZipFile(tmp_path / "r.zip") as z,
        Image.open(io.BytesIO(z.read("wide.webp"))) as im,
    ):
        assert im.format == "WEBP" and im.width == 16_383
    for name in ("big_exif.jpg", "wide.webp", "wider.jpg"):
        assert out["images"][name]["detections"], name  # the detections are all there


def _sixteen_bit(path: Path, low: int, high: int) -> tuple[np.ndarray, Image.Image]:
    """The photo as 8-bit grey, and the same frame as a 16-bit one spread over [low, high]."""
    with Image.open(path) as im:
        grey = np.asarray(im.convert("L"), dtype=np.uint8)
    lo, hi = int(grey.min()), int(grey.max())
    wide = (low + (grey.astype(np.float64) - lo) * (high - low) / (hi - lo)).round()
    stretched = ((grey.astype(np.float64) - lo) * 255 / (hi - lo)).round().astype(np.uint8)
    return stretched, Image.fromarray(wide.astype(np.uint16))


def _iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.mark.slow
def test_sixteen_bit_frames_find_what_the_8_bit_frames_find(tmp_path: Path) -> None:
    """Thermal and near-infrared cameras write 16-bit grey; clipping it to 8 bits made the frames
    almost white and the animals vanished. Real ENA24 photos, made 16-bit here."""
    eight, sixteen = tmp_path / "eight", tmp_path / "sixteen"
    eight.mkdir()
    sixteen.mkdir()
    photos = ["2480.jpg", "49.jpg", "5899.jpg", "9455.jpg"]
    for name in photos:
        grey, wide = _sixteen_bit(ENA / name, 3_000, 52_000)
        Image.fromarray(grey, mode="L").save(eight / f"{Path(name).stem}.png")
        wide.save(sixteen / f"{Path(name).stem}.png")
        with Image.open(sixteen / f"{Path(name).stem}.png") as check:
            assert check.mode.startswith("I")  # really 16-bit on disk
    found: dict[str, dict] = {}
    for label, folder in (("8", eight), ("16", sixteen)):
        run_batch(
            collect_inputs([folder]),
            load_detector(YOLOX_TFLITE),
            tmp_path / f"w{label}",
            tmp_path / f"{label}.zip",
            PipelineOptions(threshold=0.25),
        )
        with zipfile.ZipFile(tmp_path / f"{label}.zip") as z:
            images = json.loads(z.read("detections.json"))["images"]
        found[label] = {
            im["file"]: [d for d in im["detections"] if d["conf"] >= 0.25] for im in images
        }
    animals = sum(len(d) for d in found["8"].values())
    assert animals >= 3  # the 8-bit frames do show animals to this detector
    for name, dets in found["8"].items():
        wide = found["16"][name]
        assert len(wide) == len(dets), name
        for d in dets:
            assert max(_iou(d["bbox"], w["bbox"]) for w in wide) > 0.9, name


def _shared_data_zip(photo: bytes, copies: int) -> bytes:
    """One stored entry, then its central-directory record repeated under other names, every
    copy pointing at the same data: the trick behind small zips that unpack forever."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.jpg", photo)
    raw = out.getvalue()
    start, end = raw.index(b"PK\x01\x02"), raw.index(b"PK\x05\x06")
    record = raw[start:end]
    directory = b"".join(
        record.replace(b"a.jpg", f"{i:05d}"[-5:].encode()) if i else record for i in range(copies)
    )
    eocd = bytearray(raw[end:])
    struct.pack_into("<HHII", eocd, 8, copies, copies, len(directory), start)
    return raw[:start] + directory + bytes(eocd)


def test_zip_entries_that_share_their_data_are_refused(tmp_path: Path) -> None:
    upload = tmp_path / "bomb.zip"
    upload.write_bytes(_shared_data_zip(png(red_patch_image((64, 48), (1, 1, 9, 9))), 500))
    with zipfile.ZipFile(upload) as z:
        assert len(z.namelist()) == 500  # zipfile itself reads it as 500 files
    with pytest.raises(InputError, match="overlap inside the archive"):
        collect_inputs([upload])


def test_a_zip_that_unpacks_far_past_its_size_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "expands.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr(f"blank{i}.tif", b"\0" * (30 * 1024 * 1024))
    assert upload.stat().st_size < 1_000_000
    with pytest.raises(InputError, match="would unpack to 0.09 GB from"):
        collect_inputs([upload])


def test_the_pixel_budget_lets_images_through_in_order_and_a_huge_one_alone() -> None:
    budget = PixelBudget(100)
    log: list[int] = []  # tickets, in the order they got their share
    changed = threading.Condition()

    def load(ticket: int, pixels: int) -> None:
        budget.acquire(ticket, pixels)
        with changed:
            log.append(ticket)
            changed.notify_all()

    def wait_for(count: int) -> None:
        with changed:
            assert changed.wait_for(lambda: len(log) >= count, timeout=10), log

    sizes = [60, 30, 500, 10]
    threads = [
        threading.Thread(target=load, args=(t, p), daemon=True)
        for t, p in reversed(list(enumerate(sizes)))
    ]  # started out of order
    try:
        for thread in threads:
            thread.start()
        wait_for(2)  # 60 and 30 fit together; 500 must wait for them
        assert log == [0, 1] and budget.used == 90
        budget.release(60)
        budget.release(30)
        wait_for(3)  # 500, over the whole budget, goes through alone
        assert log[2] == 2 and budget.used == 500
        budget.release(500)
        wait_for(4)
        assert log == [0, 1, 2, 3]  # in ticket order, never 10 before 500
    finally:
        budget.close()


def test_a_batch_of_huge_photos_runs_within_a_small_budget(
    tmp_path: Path, red_patch_model: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        red_patch_image((1200, 900), (50 + i, 50, 300, 250)).save(folder / f"{i}.jpg")
    result, out, _ = batch(
        folder, tmp_path, red_patch_model, max_pixels_in_flight=1_000_000, loader_threads=3
    )
    assert result.tally.images == 6 and result.tally.errors == 0
    assert all(out["images"][f"{i}.jpg"]["detections"] for i in range(6))


def test_pixels_of_a_huge_photo_are_copied_in_strips_exactly() -> None:
    from model_server.media.imaging import STRIP_BYTES, pixels_of

    rng = np.random.default_rng(3)
    small = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))
    assert np.array_equal(pixels_of(small), np.asarray(small))
    big = Image.fromarray(rng.integers(0, 255, (3001, 4000, 3), dtype=np.uint8))
    assert 4000 * 3001 * 3 > STRIP_BYTES  # takes the strip path, with a short last strip
    assert np.array_equal(pixels_of(big), np.asarray(big))
