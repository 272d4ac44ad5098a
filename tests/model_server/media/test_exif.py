"""EXIF and GPS read from real camera files, checked against a second reader (exifread)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import exifread
import pytest
from PIL import Image

from model_server.media.exif import read_metadata
from tests.conftest import DATA

EX = DATA / "exif-samples" / "jpg"
CT = DATA / "camera-trap"


# A fixed clock: whether a capture time is "in the future" never depends on the day tests run.
NOW = datetime(2025, 6, 1, 12, 0, 0)


def meta(path: Path, now: datetime = NOW):
    with Image.open(path) as image:
        return read_metadata(image, now=now)


def exifread_position(path: Path) -> tuple[float, float]:
    """Independent decimal degrees from exifread, for files whose GPS is known to be good."""
    with path.open("rb") as fh:
        tags = exifread.process_file(fh, details=False)

    def degrees(key: str, ref: str) -> float:
        d, m, s = (float(v.num) / float(v.den) for v in tags[key].values)
        value = d + m / 60 + s / 3600
        return -value if str(tags[ref]).strip() in ("S", "W") else value

    return degrees("GPS GPSLatitude", "GPS GPSLatitudeRef"), degrees(
        "GPS GPSLongitude", "GPS GPSLongitudeRef"
    )


GOOD_GPS = [
    # file, latitude, longitude, altitude (m) or None
    (CT / "megadetector" / "sage-grouse-raw.jpg", 42.9463889, -116.5230556, 231.0),
    (EX / "Kodak_CX7530.jpg", -0.3713, 36.0564167, None),  # south, decimal minutes
    (EX / "hdr" / "iphone_hdr_NO.jpg", 40.4469722, -3.7247528, 639.59),  # west + altitude
    (EX / "gps" / "DSCN0010.jpg", 43.4674483, 11.8851267, None),
    (EX / "gps" / "DSCN0012.jpg", 43.4671567, 11.885395, None),
    (EX / "tests" / "67-0_length_string.jpg", 51.025, 7.5919444, 340.0),
    (EX / "tests" / "87_OSError.jpg", 43.7855944, 11.2346194, 42.12),  # alt without ref
]


@pytest.mark.parametrize(
    ("path", "lat", "lon", "alt"), GOOD_GPS, ids=lambda v: getattr(v, "name", None)
)
def test_good_gps_is_signed_decimal_degrees(
    path: Path, lat: float, lon: float, alt: float | None
) -> None:
    m = meta(path)
    assert m.latitude == pytest.approx(lat, abs=1e-6)
    assert m.longitude == pytest.approx(lon, abs=1e-6)
    other_lat, other_lon = exifread_position(path)
    assert m.latitude == pytest.approx(other_lat, abs=1e-6)
    assert m.longitude == pytest.approx(other_lon, abs=1e-6)
    assert m.altitude_m == (pytest.approx(alt, abs=0.01) if alt is not None else None)
    assert m.map_link.startswith("https://www.openstreetmap.org/?mlat=")
    assert f"{lat:.6f}" in m.map_link


def test_altitude_without_reference_is_noted() -> None:
    m = meta(EX / "tests" / "87_OSError.jpg")
    assert m.altitude_ref == "above sea level"
    assert any("reference missing" in n for n in m.notes)


BROKEN_GPS = [
    (CT / "animl-southwest" / "B012_2021-05-27_human.jpg", "reference (N/S/E/W) missing"),
    (CT / "animl-southwest" / "2021-05-28_SYFR0041_deer.JPG", "reference (N/S/E/W) missing"),
    (CT / "animl-southwest" / "2021-12-07_12080069_rabbit.JPG", "0,0 is a camera placeholder"),
    (CT / "megadetector" / "orinoquia-thumb-web.jpg", "altitude ignored: no valid position"),
    (EX / "Canon_40D.jpg", "GPS block has no position"),
]


@pytest.mark.parametrize(("path", "note"), BROKEN_GPS, ids=lambda v: getattr(v, "name", None))
def test_broken_gps_is_blank_with_a_note(path: Path, note: str) -> None:
    m = meta(path)
    assert (m.latitude, m.longitude, m.altitude_m) == (None, None, None)
    assert m.map_link == ""
    assert any(note in n for n in m.notes), m.notes


CAMERAS = [
    (
        CT / "animl-buow" / "IMG_1160.JPG",
        datetime(2019, 9, 9, 19, 6, 50),
        "RECONYX",
        "PC900 PROFESSIONAL",
    ),
    (
        CT / "animl-buow" / "RCNX1419.JPG",
        datetime(2019, 7, 7, 0, 3, 35),
        "RECONYX",
        "HF2 PRO COVERT",
    ),
    (
        CT / "animl-southwest" / "IMAG0004_cougar.JPG",
        datetime(2013, 4, 8, 14, 45, 49),
        "BolyMedia",
        "SG565FV-8M",
    ),
    (
        CT / "animl-southwest" / "Asian Plains_S012_2022-08-25_human_vehicle.jpg",
        datetime(2022, 8, 25, 11, 48, 32),
        "Prometheus",
        "BTC-5PXD",
    ),
    (
        CT / "camtrapR-burst-StationC-TRA" / "StationC__2009-04-11__21-46-00(2).JPG",
        datetime(2009, 4, 11, 21, 46),
        "G4",
        "CUDDEBACK",
    ),  # swapped by the camera, kept as written
    (CT / "ena24" / "49.jpg", datetime(2016, 3, 24, 10, 30, 12), "Reconyx", "RC55 RAPIDFIRE"),
    (
        EX / "Samsung_Digimax_i50_MP3.jpg",
        datetime(2006, 8, 15, 17, 50, 57),
        "Samsung Techwin",
        "<Digimax i50 MP3, Samsung #1 MP3>",
    ),
    (
        DATA / "camtrap-dp" / "example" / "media" / "20210531082538-RCNX0031.JPG",
        datetime(2021, 4, 11, 20, 43, 9),
        "RECONYX",
        "HYPERFIRE 2 COVERT",
    ),
]


@pytest.mark.parametrize(
    ("path", "when", "make", "model"), CAMERAS, ids=lambda v: getattr(v, "name", None)
)
def test_capture_time_and_camera(path: Path, when: datetime, make: str, model: str) -> None:
    m = meta(path)
    assert m.captured == when
    assert m.captured_source == "DateTimeOriginal"
    assert (m.make, m.model) == (make, model)


def test_serial_number_is_read_where_the_camera_writes_one() -> None:
    assert meta(EX / "tests" / "87_OSError.jpg").serial == "-1000f46"


def test_fallback_to_datetime_is_noted() -> None:
    m = meta(EX / "tests" / "67-0_length_string.jpg")
    assert m.captured == datetime(2016, 9, 12, 10, 5, 31)
    assert m.captured_source == "DateTime"
    assert "capture time taken from DateTime" in m.notes


def test_reconyx_makernote_only_frame_has_no_time_and_says_so() -> None:
    m = meta(EX / "Reconyx_HC500_Hyperfire.jpg")
    assert m.captured is None and m.make == ""
    assert "no capture time in EXIF" in m.notes


def test_future_date_is_kept_but_flagged() -> None:
    taken = datetime(2026, 11, 24, 14, 41, 16)
    before = meta(EX / "WWL_(Polaroid)_ION230.jpg", now=datetime(2026, 11, 24, 14, 41, 15))
    assert before.captured == taken
    assert "capture time is in the future: check the camera clock" in before.notes
    after = meta(EX / "WWL_(Polaroid)_ION230.jpg", now=datetime(2026, 11, 24, 14, 41, 17))
    assert after.captured == taken and not any("future" in n for n in after.notes)


@pytest.mark.parametrize(
    ("name", "taken", "key"),
    [
        ("invalid/image00971.jpg", datetime(2010, 4, 13, 9, 37, 22), "CreateDate"),  # XMP elements
        ("xmp/no_exif.jpg", datetime(2013, 9, 23, 10, 9, 46), "CreateDate"),  # XMP attributes
    ],
)
def test_capture_time_falls_back_to_xmp(name: str, taken: datetime, key: str) -> None:
    m = meta(EX / name)
    assert m.captured == taken  # local wall-clock time as written, offset not applied
    assert m.captured_source == f"XMP {key}"
    assert f"capture time taken from XMP {key}" in m.notes
    assert "no capture time in EXIF" not in m.notes


def test_exif_time_wins_over_xmp() -> None:
    m = meta(CT / "megadetector" / "sage-grouse-raw.jpg")
    assert m.captured_source in ("DateTimeOriginal", "DateTimeDigitized", "DateTime")


@pytest.mark.parametrize(
    "name",
    [
        "invalid/image00971.jpg",
        "invalid/image01088.jpg",
        "corrupted.jpg",
        "xmp/no_exif.jpg",
        "tests/45-gps_ifd.jpg",
        "exif-org/olympus-d320l.jpg",
    ],
)
def test_odd_metadata_never_raises(name: str) -> None:
    m = meta(EX / name)
    assert m.latitude is None
    assert isinstance(m.notes, list)


def test_files_without_exif_say_so() -> None:
    for path in (CT / "zamba-misc" / "small_cat.jpg", CT / "ena24" / "2480.jpg"):
        m = meta(path)
        assert m.captured is None and m.notes == ["no EXIF metadata"]
