"""How well appearance splits a repeated static object from an animal standing in its place
(issue 29, item 2), and what it costs: on real ENA24 crops, a 'branch' (bark from a real frame)
in 30 files of one camera, its light changing and a third of the files grey (night), with 4 and
then all 11 ENA24 animals (MegaDetector v4.1's own boxes) in the branch's place; once as the
bare crops, once framed in red at 160 x 120 as the tests' stand-in detector boxes it. For
each, the scores of `shared.repeats.appearance` (share of outlying embedding dimensions) for the
branch's crops and for the animals', beside the cosine distance to the median crop, and the
embedding time per crop (min / median / max of the repeats).

    python -m benchmarks.bench_repeat_appearance --repeat 3
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from model_server.species.crops import crop_box
from model_server.species.embedder import Embedder, load_embedder
from shared.repeats.appearance import APART, apart_scores

SHARED = Path(__file__).resolve().parents[2] / "shared"
ENA = SHARED / "data" / "camera-trap" / "ena24"
REFERENCE = SHARED / "data" / "megadetector-format" / "ena.md.4.1.0.json"
SPOT = (60, 20, 110, 70)


def animals() -> list[Image.Image]:
    found = []
    for entry in json.loads(REFERENCE.read_text())["images"]:
        path = ENA / Path(entry["file"]).name
        boxes = [d for d in entry["detections"] if d["category"] == "1"]
        if path.is_file() and boxes:
            with Image.open(path) as image:
                best = max(boxes, key=lambda d: d["conf"])["bbox"]
                crop = crop_box(image.convert("RGB"), best)
            if crop is not None:
                found.append(crop)
    return found


def branch_crops() -> list[Image.Image]:
    with Image.open(ENA / "2968.jpg") as frame:
        bark = frame.convert("RGB").crop((100, 100, 500, 500))
    found = []
    for i in range(30):
        crop = ImageEnhance.Brightness(bark).enhance(0.5 + 0.03 * i)
        if i % 3 == 0:
            crop = crop.convert("L").convert("RGB")
        found.append(crop.resize((50, 50)))
    return found


def framed(inside: Image.Image, i: int) -> Image.Image:
    """`inside` in the spot of a grey 160 x 120 frame, framed in red, through JPEG, cut out
    where the red frame is (as the stand-in detector boxes it)."""
    photos = sorted(ENA.glob("*.jpg"))
    with Image.open(photos[i % len(photos)]) as real:
        image = real.convert("L").convert("RGB").resize((160, 120))
    image.paste(inside.resize((SPOT[2] - SPOT[0], SPOT[3] - SPOT[1])), SPOT[:2])
    ImageDraw.Draw(image).rectangle(SPOT, outline=(255, 0, 0), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    decoded = Image.open(io.BytesIO(out.getvalue())).convert("RGB")
    pixels = np.asarray(decoded).astype(int)
    ys, xs = np.where((pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60))
    x0, y0 = xs.min(), ys.min()
    box = (x0 / 160, y0 / 120, (xs.max() + 1 - x0) / 160, (ys.max() + 1 - y0) / 120)
    crop = crop_box(decoded, box)
    assert crop is not None
    return crop


def report(name: str, embedder: Embedder, branch: list[Image.Image], others: list[Image.Image]):
    vectors = embedder.embed(branch + others)
    scores = apart_scores(vectors)
    median = np.median(vectors, axis=0)
    cosine = 1 - vectors @ (median / np.linalg.norm(median))
    n = len(branch)
    print(f"{name}: {n} branch crops, {len(others)} animals in its place")
    for label, values in (("share of outlying dimensions", scores), ("cosine to median", cosine)):
        print(
            f"  {label:30s} branch {values[:n].min():.3f}-{values[:n].max():.3f}"
            f"   animals {values[n:].min():.3f}-{values[n:].max():.3f}"
        )
    flagged = [i for i, s in enumerate(scores) if s > APART]
    print(f"  flagged over {APART}: {flagged} (the animals are {list(range(n, len(scores)))})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--embedder", type=Path, default=SHARED / "models" / "yolox_nano.onnx")
    args = parser.parse_args()
    embedder = load_embedder(args.embedder)
    every = animals()
    branch = branch_crops()
    framed_branch = [framed(c, i) for i, c in enumerate(branch)]
    for count in (4, len(every)):
        found = every[:count]
        bare = [a.resize((50, 50)) for a in found]
        report(f"bare crops, {count} animals", embedder, branch, bare)
        report(
            f"framed as the tests' detector sees them, {count} animals",
            embedder,
            framed_branch,
            [framed(a, 30 + i) for i, a in enumerate(found)],
        )
    crops = branch * 5  # 150 crops, the Repeats page's strip
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for i in range(0, len(crops), 64):
            embedder.embed(crops[i : i + 64])
        times.append((time.perf_counter() - started) / len(crops) * 1000)
    print(
        f"embedding, ms per crop over {len(crops)} crops: min {min(times):.1f} / median "
        f"{statistics.median(times):.1f} / max {max(times):.1f}"
    )


if __name__ == "__main__":
    main()
