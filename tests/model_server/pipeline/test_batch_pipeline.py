"""The batch command end to end with a real frozen graph: inputs, orientation, EXIF carried into
the annotated copy, bad files as error rows, formulas kept as text, row limits, resume."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from datetime import datetime
from pathlib import Path
from typing import cast

import numpy as np
import piexif
import pytest
from PIL import Image, ImageChops

from model_server.detectors import load_detector
from model_server.outputs.thumbnails import thumbnail_jpeg
from model_server.pipeline.batch import run_batch
from model_server.pipeline.options import PipelineOptions
from shared.errors import JobCancelled
from shared.inputs import collect_inputs
from shared.store import open_store
from shared.store.reads import iter_media
from shared.store.records import MediaRecord
from shared.store.writes import DuplicateMedia, add_media, done_paths
from tests.conftest import DATA
from tests.images import exif_block, jpeg_bytes, png_bomb_header, red_patch_image


def test_orientation_is_honoured_and_exif_kept(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    # Stored sideways (landscape 400x300) with Orientation 6: the user sees it upright, 300x400.
    stored = red_patch_image((400, 300), (40, 200, 120, 260))
    photo = tmp_path / "in" / "sideways.jpg"
    photo.parent.mkdir()
    photo.write_bytes(jpeg_bytes(stored, exif_block(orientation=6)))
    code, _, err, result = run_batch_cli(photo, "--model", red_patch_model)
    assert code == 0, err
    with Image.open(photo) as im:
        upright = np.asarray(im.transpose(Image.Transpose.ROTATE_270))
    ys, xs = np.nonzero((upright[..., 0] > 200) & (upright[..., 1] < 60))
    image = result.images_by_file()["sideways.jpg"]
    assert (image["width"], image["height"]) == (300, 400)
    animal = next(d for d in image["detections"] if d["category"] == "1")
    assert animal["bbox"] == pytest.approx(
        [
            xs.min() / 300,
            ys.min() / 400,
            (xs.max() + 1 - xs.min()) / 300,
            (ys.max() + 1 - ys.min()) / 400,
        ],
        abs=0.02,
    )
    with Image.open(result.root / "sideways.jpg") as annotated:
        assert annotated.size == (300, 400)
        exif = piexif.load(annotated.info["exif"])
    assert exif["0th"].get(piexif.ImageIFD.Orientation, 1) == 1  # pixels are upright now
    assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == b"2021:06:01 05:30:00"
    assert exif["GPS"][piexif.GPSIFD.GPSLatitudeRef] == b"S"
    row = result.sheet_rows("Media")[0]
    assert row["latitude"].value == pytest.approx(-33.5, abs=1e-4)
    assert row["longitude"].value == pytest.approx(151.25, abs=1e-4)
    assert row["captured"].value == datetime(2021, 6, 1, 5, 30)
    assert row["map_link"].hyperlink.target.startswith("https://www.openstreetmap.org/")


def make_mixed_upload(root: Path) -> Path:
    """A zip a researcher might send: folders, odd names, formats, case, junk and bad files."""
    good = jpeg_bytes(red_patch_image((320, 240), (10, 10, 60, 50)), exif_block())
    real = (
        DATA
        / "camera-trap"
        / "camtrapR-burst-StationC-TRA"
        / "StationC__2009-04-11__21-44-00(1).JPG"
    ).read_bytes()

    def encoded(fmt: str) -> bytes:
        out = io.BytesIO()
        red_patch_image((120, 90), (5, 5, 30, 30)).save(out, fmt)
        return out.getvalue()

    path = root / "upload.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Site A/cam 1/IMG (1).JPG", good)
        z.writestr("Site A/cam 1/Élan_café.Jpeg", good)
        z.writestr("Site B/StationC(1).JPG", real)
        z.writestr("formats/a.PNG", encoded("PNG"))
        z.writestr("formats/b.tif", encoded("TIFF"))
        z.writestr("formats/c.bmp", encoded("BMP"))
        z.writestr("formats/d.webp", encoded("WEBP"))
        z.writestr('=HYPERLINK("x").jpg', good)
        z.writestr("../../escape.jpg", good)
        z.writestr("__MACOSX/Site A/._IMG (1).JPG", b"resource fork")
        z.writestr("notes.txt", b"field notes")
        z.writestr("bad/empty.jpg", b"")
        z.writestr("bad/truncated.jpg", good[: len(good) // 3])
        z.writestr("bad/text.jpg", b"<html>not an image</html>")
        z.writestr("bad/bomb.png", png_bomb_header())
    return path


def test_mixed_zip_every_file_accounted_for(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    upload = make_mixed_upload(tmp_path)
    code, out, err, result = run_batch_cli(
        upload,
        DATA / "camera-trap" / "animl-southwest" / "error_img.JPG",
        "--model",
        red_patch_model,
        "--threshold",
        "0.4",
    )
    assert code == 0, err
    images = result.images_by_file()
    ok = [
        "upload/Site A/cam 1/IMG (1).JPG",
        "upload/Site A/cam 1/Élan_café.Jpeg",
        "upload/Site B/StationC(1).JPG",
        "upload/formats/a.PNG",
        "upload/formats/b.tif",
        "upload/formats/c.bmp",
        "upload/formats/d.webp",
        'upload/=HYPERLINK("x").jpg',
        "upload/escape.jpg",
    ]
    failed = {
        "upload/bad/empty.jpg": "empty",
        "upload/bad/truncated.jpg": "truncated",
        "upload/bad/text.jpg": "not a readable image",
        "upload/bad/bomb.png": "safety limit",
        "error_img.JPG": "empty",
    }
    assert sorted(images) == sorted([*ok, *failed])
    for name in ok:
        assert images[name]["detections"] is not None, name
        assert name in result.names  # the annotated copy keeps its relative path
    for name, words in failed.items():
        assert words in images[name]["failure"], (name, images[name]["failure"])
        assert name not in result.names
    assert "Skipped 1 files that are not photos or videos." in out
    rows = {r["file"].value: r for r in result.sheet_rows("Media")}
    assert rows["upload/bad/bomb.png"]["outcome"].value == "error"
    assert rows["upload/Site A/cam 1/IMG (1).JPG"]["outcome"].value == "animal+person"
    assert rows["upload/Site B/StationC(1).JPG"]["outcome"].value == "person"
    assert rows["upload/Site B/StationC(1).JPG"]["make"].value == "G4"
    summary = {
        r[0].value: r[1].value
        for r in result.workbook()["Summary"].iter_rows()
        if r[1].value is not None
    }
    assert summary["Images"] == 14 and summary["Videos"] == 0 and summary["Media: error"] == 5
    assert summary["Detections: vehicle"] == 0  # the graph's vehicle (0.1) is under 0.4
    assert summary["Threshold used for outcomes and counts"] == 0.4


def test_formulas_in_names_stay_text(tmp_path: Path, red_patch_model: Path, run_batch_cli) -> None:
    photo = tmp_path / '=HYPERLINK("evil.example","click").jpg'
    photo.write_bytes(jpeg_bytes(red_patch_image((100, 80), (1, 1, 9, 9))))
    code, _, _, result = run_batch_cli(photo, "--model", red_patch_model)
    assert code == 0
    for sheet in ("Media", "Detections"):
        cell = result.sheet_rows(sheet)[0]["file"]
        assert cell.data_type == "s" and cell.value == photo.name

    with (result.root / "images.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert next(csv.DictReader(fh))["file"] == "'" + photo.name  # no formula in a spreadsheet
    with (result.root / "camtrap-dp" / "media.csv").open(encoding="utf-8", newline="") as fh:
        assert next(csv.DictReader(fh))["fileName"] == "'" + photo.name  # Camtrap DP's too


def test_excel_row_limit_refused_with_a_message(tmp_path: Path, red_patch_model: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.jpg").write_bytes(jpeg_bytes(red_patch_image((64, 48), (1, 1, 9, 9))))
    detector = load_detector(red_patch_model)
    result = run_batch(
        collect_inputs([folder]),
        detector,
        tmp_path / "work",
        tmp_path / "r.zip",
        PipelineOptions(threshold=0.3, excel_max_rows=4),
    )
    assert any("Media sheet stopped at Excel's limit of 4 rows" in w for w in result.warnings)
    assert any("Detections sheet" in w for w in result.warnings)
    with zipfile.ZipFile(tmp_path / "r.zip") as z:
        assert z.read("images.csv").decode("utf-8-sig").count("\n") == 6  # header + 5: CSV has all
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(z.read("report.xlsx")))
    assert book["Media"].max_row == 4
    assert any("limit" in str(c.value) for row in book["Summary"].iter_rows() for c in row)


def test_sheets_have_frozen_headers_and_filters(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg_bytes(red_patch_image((64, 48), (1, 1, 9, 9))))
    _, _, _, result = run_batch_cli(photo, "--model", red_patch_model)
    book = result.workbook()
    assert book.sheetnames == ["Summary", "Media", "Frames", "Detections", "Events", "Deployments"]
    for name in ("Media", "Frames", "Detections", "Events", "Deployments"):
        assert book[name].freeze_panes == "A2"
        assert book[name].auto_filter.ref.startswith("A1:")
        assert book[name].column_dimensions["A"].width >= 30


def test_a_stopped_run_resumes_and_counts_every_image_once(
    tmp_path: Path, red_patch_model: Path
) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(8):
        (folder / f"{i:02d}.jpg").write_bytes(
            jpeg_bytes(red_patch_image((80, 60), (i, i, i + 20, i + 20)))
        )
    detector = load_detector(red_patch_model)
    inventory = collect_inputs([folder])
    asked: list[bool] = []

    def stop_after_four() -> bool:
        asked.append(True)
        return len(asked) > 4

    with pytest.raises(JobCancelled):
        run_batch(
            inventory,
            detector,
            tmp_path / "work",
            tmp_path / "r.zip",
            PipelineOptions(),
            should_stop=stop_after_four,
        )
    assert not (tmp_path / "r.zip").exists()
    store = open_store(f"sqlite:///{tmp_path / 'work' / 'results.db'}")
    assert len(done_paths(store, "batch")) == 4
    result = run_batch(
        inventory, detector, tmp_path / "work", tmp_path / "r.zip", PipelineOptions()
    )
    files = [r.file for r in iter_media(store, "batch")]
    assert sorted(files) == [f"{i:02d}.jpg" for i in range(8)]
    assert result.tally.images == 8
    with zipfile.ZipFile(tmp_path / "r.zip") as z:
        assert sorted(n for n in z.namelist() if n.endswith(".jpg")) == sorted(files)


def test_exit_codes_a_script_can_act_on(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing here")
    code, _, err, _ = run_batch_cli(empty, "--model", red_patch_model)
    assert code == 1 and "no images or videos" in err
    code, _, err, _ = run_batch_cli(
        DATA / "camera-trap" / "animl-southwest" / "error_img.JPG", "--model", red_patch_model
    )
    assert code == 1 and "no photo or video could be processed" in err
    code, _, err, _ = run_batch_cli(empty, "--model", tmp_path / "nope.pb")
    assert code == 1 and "No detector model" in err
    code, _, err, _ = run_batch_cli(tmp_path / "missing-folder", "--model", red_patch_model)
    assert code == 1 and "does not exist" in err
    with pytest.raises(SystemExit) as exit_info:
        run_batch_cli(empty, "--threshold", "7")
    assert exit_info.value.code == 2


def test_folders_are_searched_recursively_with_paths_kept(
    tmp_path: Path, red_patch_model: Path, run_batch_cli
) -> None:
    root = tmp_path / "card"
    shutil.copytree(
        DATA / "camera-trap" / "camtrapR-burst-StationC-TRA", root / "DCIM" / "100CUDDY"
    )
    code, _, _, result = run_batch_cli(root, "--model", red_patch_model)
    assert code == 0
    assert sorted(result.images_by_file()) == [
        "DCIM/100CUDDY/StationC__2009-04-11__21-44-00(1).JPG",
        "DCIM/100CUDDY/StationC__2009-04-11__21-46-00(1).JPG",
        "DCIM/100CUDDY/StationC__2009-04-11__21-46-00(2).JPG",
    ]


def test_the_store_takes_whole_batches_and_never_a_file_twice(
    tmp_path: Path, red_patch_model: Path
) -> None:
    """A crash between commits loses at most the batch in hand, never half of one; a batch that
    names a stored file is refused whole (the unique (job, path) constraint), so a torn write
    can never leave duplicates."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(7):
        (folder / f"{i:02d}.jpg").write_bytes(
            jpeg_bytes(red_patch_image((80, 60), (i, i, i + 20, i + 20)))
        )
    detector = load_detector(red_patch_model)
    store = open_store(f"sqlite:///{tmp_path / 'work' / 'results.db'}")
    commits: list[int] = []

    def count_commits() -> bool:
        commits.append(len(done_paths(store, "batch")))
        return True

    run_batch(
        collect_inputs([folder]),
        detector,
        tmp_path / "work",
        tmp_path / "r.zip",
        PipelineOptions(commit_every=3),
        may_publish=count_commits,
    )
    # asked before each commit (3, 3, 1 images), before the location's repeat rules are applied,
    # and before the zip and the job's end
    assert commits == [0, 3, 6, 7, 7, 7]
    again = MediaRecord("05.jpg", ordinal=5)
    new = MediaRecord("zz-new.jpg", ordinal=9)
    with pytest.raises(DuplicateMedia):
        add_media(store, "batch", [new, again], 0.5, "test")
    assert len(done_paths(store, "batch")) == 7  # nothing of the refused batch was kept


def test_each_photo_gets_a_thumbnail_and_a_web_rendition(
    tmp_path: Path, red_patch_model: Path
) -> None:
    """Real trap photos (2048 px and more) get a clean 320-pixel JPEG and a 1280-pixel one,
    named in the store; a failed file gets none."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for photo in sorted((DATA / "camtrap-dp" / "example" / "media").glob("*.JPG"))[:2]:
        shutil.copy(photo, folder / photo.name)
    red = red_patch_image((1600, 1200), (200, 200, 900, 700))
    (folder / "red.jpg").write_bytes(jpeg_bytes(red))
    (folder / "broken.jpg").write_bytes(b"not a photo")
    run_batch(
        collect_inputs([folder]),
        load_detector(red_patch_model),
        tmp_path / "work",
        tmp_path / "r.zip",
        PipelineOptions(),
        thumbnails=tmp_path / "thumbs",
    )
    store = open_store(f"sqlite:///{tmp_path / 'work' / 'results.db'}")
    records = {r.file: r for r in iter_media(store, "batch")}
    assert records["broken.jpg"].thumbnail == ""
    for record in records.values():
        if record.failure:
            continue
        with Image.open(tmp_path / "thumbs" / record.thumbnail) as thumb:
            assert thumb.format == "JPEG" and max(thumb.size) == 320
            assert record.width and record.height
            ratio = record.width / record.height
            assert abs(thumb.width / thumb.height - ratio) < 0.02
    assert len(records) == 4 and records["red.jpg"].detections
    # both renditions are clean (the browser draws the boxes it is asked to): the plain photo
    # scaled down, give or take JPEG's rounding; the drawn box would differ by far more
    for name, side in ((records["red.jpg"].thumbnail, 320), (records["red.jpg"].view, 1280)):
        plain = Image.open(io.BytesIO(thumbnail_jpeg(red, side))).convert("L")
        with Image.open(tmp_path / "thumbs" / name) as rendition:
            assert max(rendition.size) == side
            extrema = ImageChops.difference(rendition.convert("L"), plain).getextrema()
            assert cast(tuple[int, int], extrema)[1] < 30
