"""Every labelled animal box among the shared third-party photos, with what links it to others
(its event, and its camera where the photo says which), for judging species suggestions on
held-out groups (`shared.species.held_out`).

- ENA24 frames: species from zamba's label table, boxes from the real MegaDetector v4.1 output
  (animal, conf >= 0.8). Each frame is its own event; the set does not say which camera took it.
- The Camtrap DP example's heron burst: its own human-drawn boxes, event and deployment.
- Burrowing owls (animl's BUOW frames and `testdataowl.JPG`) and seven other species, one photo
  each: the largest animal box the given detector finds (a photo it finds none in is left out).
  A photo's camera is its EXIF make and model (two cameras of one model count as one: held out
  together, which is the stricter).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from model_server.detectors.base import Detector
from model_server.media.imaging import pixels_of
from model_server.species.examples import largest_animal

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
TRAPS = DATA / "camera-trap"
EXAMPLE = DATA / "camtrap-dp" / "example"
DETECTED = {
    "animl-buow/IMG_1160.JPG": "Burrowing Owl",
    "animl-buow/IMG_8968.JPG": "Burrowing Owl",
    "animl-buow/RCNX1419.JPG": "Burrowing Owl",
    "animl-buow/RCNX7686.JPG": "Burrowing Owl",
    "animl-southwest/testdataowl.JPG": "Burrowing Owl",
    "animl-southwest/IMAG0004_cougar.JPG": "Cougar",
    "animl-southwest/2021-12-07_12080069_rabbit.JPG": "Rabbit",
    "animl-southwest/2021-05-28_SYFR0041_deer.JPG": "Deer",
    "zamba-misc/wild_dog_jackal.jpg": "Jackal",
    "zamba-misc/chimpanzee_bonobo.jpeg": "Chimpanzee",
    "zamba-misc/small_cat.jpg": "Serval",
}
DETECTOR_THRESHOLD = 0.2  # MegadetectorLite finds IMG_1160's owl at 0.20


@dataclass(frozen=True)
class LabelledPhoto:
    species: str
    event: str
    camera: str  # "" where not known
    source: str  # the photo, relative to shared/data
    image: Image.Image  # upright RGB
    bbox: tuple[float, float, float, float]  # normalised [x, y, w, h]


def table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def upright(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def camera_of(path: Path) -> str:
    with Image.open(path) as image:
        exif = image.getexif()
    make, model = (str(exif.get(tag, "")).strip(" \x00") for tag in (0x010F, 0x0110))
    return f"{make} {model}".strip()


def ena24() -> list[LabelledPhoto]:
    labels = {
        r["filepath"]: r["label"]
        for r in table(DATA / "megadetector-format" / "zamba_ena24_small_labels.csv")
    }
    reference = json.loads((DATA / "megadetector-format" / "ena.md.4.1.0.json").read_text())
    found = []
    for entry in reference["images"]:
        name = Path(entry["file"]).name
        path = TRAPS / "ena24" / name
        if name not in labels or not path.is_file():
            continue
        image = upright(path)
        found += [
            LabelledPhoto(
                labels[name],
                f"ena24/{name}",
                "",
                f"camera-trap/ena24/{name}",
                image,
                tuple(d["bbox"]),
            )
            for d in entry["detections"]
            if d["category"] == "1" and d["conf"] >= 0.8
        ]
    return found


def heron_burst() -> list[LabelledPhoto]:
    media = {r["mediaID"]: r["filePath"] for r in table(EXAMPLE / "media.csv")}
    found = []
    for row in table(EXAMPLE / "observations.csv"):
        path = media.get(row["mediaID"], "")
        if row["bboxX"] and path.startswith("media/"):
            box = tuple(float(row[k]) for k in ("bboxX", "bboxY", "bboxWidth", "bboxHeight"))
            found.append(
                LabelledPhoto(
                    "Grey Heron",
                    f"camtrap-dp/{row['eventID']}",
                    f"camtrap-dp/{row['deploymentID']}",
                    f"camtrap-dp/example/{path}",
                    upright(EXAMPLE / path),
                    box,  # type: ignore[arg-type]
                )
            )
    return sorted(found, key=lambda p: p.source)


def detected(detector: Detector) -> list[LabelledPhoto]:
    found = []
    for relative, species in DETECTED.items():
        path = TRAPS / relative
        image = upright(path)
        box = largest_animal(detector.detect(pixels_of(image), relative), DETECTOR_THRESHOLD)
        if box is None:
            continue  # the detector's miss: a species test needs a box
        found.append(
            LabelledPhoto(
                species,
                relative,
                camera_of(path),
                f"camera-trap/{relative}",
                image,
                tuple(box.bbox),  # type: ignore[arg-type]
            )
        )
    return found


def labelled_photos(detector: Detector | None) -> list[LabelledPhoto]:
    """ENA24 and the heron burst; with a detector, the owls and the other species too."""
    return ena24() + heron_burst() + (detected(detector) if detector is not None else [])
