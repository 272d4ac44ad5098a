"""Reading ground truth in each format: the official Camtrap DP example package, zamba's
ENA24 COCO Camera Traps file and label CSV, small hand-made files, and refusals that say what
is wrong."""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from functools import partial
from pathlib import Path

import pytest

from shared.errors import TruthError
from shared.evaluation.model import Box
from shared.evaluation.truth_files import read_truth, read_truth_files, read_truth_path
from tests.conftest import DATA

PACKAGE = DATA / "camtrap-dp" / "example"
ENA24 = DATA / "megadetector-format"


def test_camtrap_dp_example_package_gives_the_burst_its_boxes() -> None:
    truth = read_truth_path(PACKAGE)
    assert truth.source.startswith("Camtrap DP")
    burst = {k: v for k, v in truth.items.items() if k.startswith("media/")}
    assert len(burst) == 10
    first = burst["media/20210531082538-RCNX0031.JPG"]
    assert first.categories == {"animal"}
    assert first.boxes is not None and len(first.boxes) == 1
    assert first.boxes[0].bbox == (0.35947, 0.61382, 0.32951, 0.31225)
    # 423 media: 11 carry only "unknown"/"unclassified" answers and are set aside, named
    assert len(truth.items) + len(truth.unusable) == 423
    assert len(truth.unusable) == 11 and any("no usable answer" in n for n in truth.notes)
    # the same package from its datapackage.json, its observations.csv, or zipped
    assert read_truth_path(PACKAGE / "datapackage.json").items == truth.items
    assert read_truth_path(PACKAGE / "observations.csv").items == truth.items
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for name in ("datapackage.json", "media.csv", "observations.csv"):
            archive.write(PACKAGE / name, f"example/{name}")
    assert read_truth_files({"package.zip": packed.getvalue()}).items == truth.items


def test_blank_and_human_observations_mean_empty_and_person() -> None:
    truth = read_truth_path(PACKAGE)
    categories = [t.categories for t in truth.items.values()]
    assert frozenset() in categories and any("person" in c for c in categories)
    assert any("vehicle" in c for c in categories)


def test_event_level_observations_cover_media_by_time() -> None:
    media = (
        "mediaID,deploymentID,timestamp,filePath\n"
        "m1,d1,2024-01-01T10:00:00Z,cam/1.jpg\nm2,d1,2024-01-01T10:00:30+00:00,cam/2.jpg\n"
        "m3,d1,2024-01-01T11:00:00Z,cam/3.jpg\nm4,d2,2024-01-01T10:00:10Z,cam2/4.jpg\n"
    )
    observations = (
        "observationID,deploymentID,mediaID,eventStart,eventEnd,observationLevel,"
        "observationType,bboxX,bboxY,bboxWidth,bboxHeight\n"
        "o1,d1,,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z,event,animal,,,,\n"
        "o2,d2,m4,,,media,human,0.1,0.1,0.2,0.2\n"
    )
    truth = read_truth_files(
        {"observations.csv": observations.encode(), "media.csv": media.encode()}
    )
    assert truth.items["cam/1.jpg"].categories == {"animal"}
    assert truth.items["cam/1.jpg"].boxes is None  # an event says what, not where
    assert truth.items["cam/2.jpg"].categories == {"animal"}
    assert truth.unusable == {
        "cam/3.jpg": "no observation of this media or of an event covering its time"
    }
    boxes = truth.items["cam2/4.jpg"].boxes
    assert boxes is not None and boxes[0].category == "person"
    assert any("event-level" in n for n in truth.notes)


def test_coco_camera_traps_boxes_are_made_relative() -> None:
    truth = read_truth_path(ENA24 / "zamba_ena24_small_coco_annotations.json")
    assert len(truth.items) == 21
    first = truth.items["2480.jpg"]  # 1920x1080, bbox [1, 11, 111, 10] in pixels
    assert first.categories == {"animal"}
    assert first.boxes is not None
    assert first.boxes[0].bbox == pytest.approx((1 / 1920, 11 / 1080, 111 / 1920, 10 / 1080))
    assert any("Virginia Opossum" in n and "'animal'" in n for n in truth.notes)


def test_label_csv_with_species_names() -> None:
    truth = read_truth_path(ENA24 / "zamba_ena24_small_labels.csv")
    assert len(truth.items) == 21
    assert all(t.categories == {"animal"} and t.boxes is None for t in truth.items.values())


def test_csv_with_boxes_empty_rows_and_several_rows_per_file(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text(
        "\ufefffile,category,x,y,width,height\n"
        "a.jpg,animal,0.1,0.1,0.2,0.2\na.jpg,Person,0.5,0.5,0.1,0.1\n"
        "b.jpg,empty,,,,\nc.jpg,Red fox,,,,\nd.jpg,unclassified,,,,\n",
        encoding="utf-8",
    )
    truth = read_truth_path(path)
    assert truth.items["a.jpg"].categories == {"animal", "person"}
    assert [b.category for b in truth.items["a.jpg"].boxes or []] == ["animal", "person"]
    assert truth.items["b.jpg"].categories == frozenset() and truth.items["b.jpg"].boxes == []
    assert truth.items["c.jpg"].categories == {"animal"} and truth.items["c.jpg"].boxes is None
    assert "d.jpg" in truth.unusable


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"t.csv": b"name,what\na.jpg,animal\n"}, "needs a 'file' column"),
        (
            {"t.csv": b"file,category,x,y,width,height\na.jpg,animal,10,20,300,400\n"},
            "row 2: the box .* is not normalised",
        ),
        ({"observations.csv": b"observationID\n"}, "needs the package's media.csv"),
        ({"t.json": b'{"images": []}'}, "not a COCO Camera Traps file"),
        ({"t.json": b"{not json"}, "not valid JSON"),
        ({"t.zip": b"PK\x03\x04 not really"}, "not a readable zip"),
        ({"a.csv": b"file,category\n", "b.csv": b"file,category\n"}, "expected one truth file"),
        (
            {
                "t.json": json.dumps(
                    {
                        "images": [{"id": 1, "file_name": "a.jpg"}],
                        "categories": [],
                        "annotations": [{"image_id": 1, "category_id": 9}],
                    }
                ).encode()
            },
            "annotation 0 names an image or category",
        ),
    ],
)
def test_unreadable_truth_says_what_is_wrong(files: dict, message: str) -> None:
    with pytest.raises(TruthError, match=message):
        read_truth_files(files)


def test_overlapping_events_give_each_file_every_kind_that_covers_it() -> None:
    """Issue 33, item 7: events found by one sweep over time. Overlaps, ends that touch a
    file's time, an event ending before it starts, two deployments, and a thousand events that
    all cover one hour (each file takes each kind once, not once per event)."""
    media = "mediaID,deploymentID,timestamp,filePath\n" + "".join(
        f"{m},{d},2024-01-01T{t}Z,{d}/{m}.jpg\n"
        for m, d, t in [
            ("a", "d1", "00:15:00"),
            ("b", "d1", "00:45:00"),
            ("c", "d1", "02:30:00"),
            ("d", "d1", "03:00:00"),
            ("e", "d1", "04:00:00"),
            ("f", "d2", "00:15:00"),
            ("g", "d3", "05:30:00"),
        ]
    )
    events = [
        ("d1", "00:00:00", "01:00:00", "Vulpes vulpes"),
        ("d1", "00:30:00", "02:00:00", "human"),
        ("d1", "03:00:00", "04:00:00", "vehicle"),
        ("d1", "02:20:00", "02:10:00", "human"),  # ends before it starts: covers nothing
        *[("d3", "05:00:00", "06:00:00", "animal")] * 1000,
    ]
    observations = (
        "observationID,deploymentID,mediaID,eventStart,eventEnd,observationLevel,"
        "observationType\n"
        + "".join(
            f"o{i},{d},,2024-01-01T{start}Z,2024-01-01T{end}Z,event,{kind}\n"
            for i, (d, start, end, kind) in enumerate(events)
        )
    )
    truth = read_truth_files(
        {"observations.csv": observations.encode(), "media.csv": media.encode()}
    )
    found = {name: set(t.categories) for name, t in truth.items.items()}
    assert found == {
        "d1/a.jpg": {"animal"},
        "d1/b.jpg": {"animal", "person"},
        "d1/d.jpg": {"vehicle"},
        "d1/e.jpg": {"vehicle"},
        "d3/g.jpg": {"animal"},
    }
    assert set(truth.unusable) == {"d1/c.jpg", "d2/f.jpg"}


def test_a_zip_whose_truth_unpacks_past_the_limit_is_refused_before_unpacking() -> None:
    """Issue 33, item 7: a 775 KB zip had made 0.9 GB in a web worker. Three members whose
    sizes add up past the limit are refused by their headers; under it they are read."""
    row = b"file,category\n" + b"cam/IMG.jpg,animal\n" * 20_000  # 380 KB, deflates to ~1 KB
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("a.csv", "b.csv", "c.csv"):
            archive.writestr(name, row)
    data = packed.getvalue()
    assert len(data) < 10_000
    with pytest.raises(TruthError, match="unpack to more than 1 MB"):
        read_truth_files({"truth.zip": data}, max_unpacked=2**20)
    with pytest.raises(TruthError, match="expected one truth file"):  # read, then judged
        read_truth_files({"truth.zip": data}, max_unpacked=2 * 2**20)


class Trickle(io.BytesIO):
    """A file that refuses to be read whole: any read that would return more than 1 MB fails
    (zipfile reads a zip's last 64 KB in one read, which is allowed)."""

    def read(self, size: int | None = -1, /) -> bytes:
        left = len(self.getbuffer()) - self.tell()
        wanted = left if size is None or size < 0 else min(size, left)
        assert wanted <= 2**20, f"read({size}) with {left:,} bytes left"
        return super().read(size)

    def read1(self, size: int | None = -1, /) -> bytes:
        return self.read(size)


def big_coco(images: int) -> bytes:
    return json.dumps(
        {
            "info": {"version": "1"},
            "images": [
                {"id": i, "file_name": f"cam/{i:06d}.jpg", "width": 1000, "height": 500}
                for i in range(images)
            ],
            "categories": [{"id": 1, "name": "deer"}, {"id": 2, "name": "empty"}],
            "annotations": [
                {"id": i, "image_id": i, "category_id": 1 + i % 2, "bbox": [100, 50, 200, 100]}
                for i in range(images)
            ],
        }
    ).encode()


def test_truth_files_are_read_as_streams() -> None:
    """Issue 33, item 7: a COCO JSON and a CSV of several MB each are read in pieces of at most
    1 MB (the old reader held the whole text and then the whole JSON tree)."""
    coco = big_coco(40_000)
    csv_text = b"file,category\n" + b"".join(
        f"cam/{i:06d}.jpg,Red fox\n".encode() for i in range(200_000)
    )
    assert len(coco) > 4 * 2**20 and len(csv_text) > 4 * 2**20
    truth = read_truth({"truth.json": partial(Trickle, coco)})
    assert len(truth.items) == 40_000 and len(truth.unusable) == 0
    assert truth.items["cam/000000.jpg"].boxes == [Box("animal", (0.1, 0.1, 0.2, 0.2))]
    assert truth.items["cam/000001.jpg"].categories == frozenset()
    assert len(read_truth({"truth.csv": partial(Trickle, csv_text)}).items) == 200_000
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("survey/truth.json", coco)
    streamed = read_truth({"truth.zip": partial(Trickle, packed.getvalue())})
    assert streamed.items == truth.items


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"t.json": b""}, "not valid JSON"),
        ({"t.json": b'{"images": [1], "categories": [], "annotations": []}'}, "needs 'images'"),
        ({"t.json": b'[{"annotations": 1, "categories": 2}]'}, "not a COCO Camera Traps"),
        (
            {"t.json": b'{"annotations": [], "categories": [], "images": [{"id": 1'},
            "not valid JSON",
        ),
        ({"t.csv": b"file,category\na.jpg,\xff\xfeanimal\n"}, "t.csv is not UTF-8 text"),
        (
            {"t.csv": b"file,category\n" + b"a" * 200_000 + b",animal\n"},
            "the CSV line 2: field larger",
        ),
        (
            {
                "t.json": b'{"images": [{"id": 1, "file_name": "a.jpg", "width": "wide", '
                b'"height": 5}], "categories": [{"id": 1, "name": "deer"}], '
                b'"annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 1, 1]}]}'
            },
            "annotation 0: bbox and the image's size must be numbers",
        ),
    ],
)
def test_unreadable_streams_say_what_is_wrong(files: dict, message: str) -> None:
    before = csv.field_size_limit(131_072)  # Python's default; frictionless raises it for all
    try:
        with pytest.raises(TruthError, match=message):
            read_truth_files(files)
    finally:
        csv.field_size_limit(before)


def test_a_coco_file_with_a_byte_order_mark_is_read() -> None:
    data = codecs.BOM_UTF8 + big_coco(3)
    assert len(read_truth_files({"t.json": data}).items) == 3
