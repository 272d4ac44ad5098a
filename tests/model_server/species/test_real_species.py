"""The species classifier on real camera-trap crops, judged honestly: every labelled animal box
among the shared photos (`benchmarks.species_truth`: ENA24 frames with MegaDetector v4.1's boxes,
the Camtrap DP example's heron burst, burrowing owls from two camera models and seven other
species with MegadetectorLite's boxes) asked of a set taught from the other events and cameras
only, embedded with the YOLOX-Nano neck features.

Measured when this test was written (onnxruntime 1.32, `python -m
benchmarks.bench_species_held_out`): 34 boxes of 13 species in 20 groups. Of the 15 boxes whose
species other groups taught, 7 named right (top-2: 8), 8 named wrong, none "unknown" (chance,
guessing among the classes taught: 0.077, 1.2 of 15). Of the 19 boxes of a species no other
group had, 2 "unknown" and 17 named as a taught species (the heron burst as opossum). The bounds
leave room for drift in another onnxruntime build and stay well above chance; the last says
plainly how weak "unknown" is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.species_truth import labelled_photos
from model_server.detectors import load_detector
from model_server.species.crops import crop_box
from model_server.species.embedder import YoloxNeckEmbedder, neck_tensors
from shared.errors import ModelLoadError
from shared.species.classifier import ClassSet
from shared.species.held_out import LabelledBox, evaluate_held_out, held_out_groups
from tests.conftest import MODELS


@pytest.fixture(scope="module")
def embedder() -> YoloxNeckEmbedder:
    return YoloxNeckEmbedder(MODELS / "yolox_nano.onnx")


def test_boxes_of_unseen_events_and_cameras_are_named_above_chance(
    embedder, megadetector_lite
) -> None:
    detector = load_detector(megadetector_lite)
    try:
        photos = labelled_photos(detector)
    finally:
        detector.close()
    crops = [crop_box(p.image, p.bbox) for p in photos]
    assert all(c is not None for c in crops)
    vectors = embedder.embed([c for c in crops if c is not None])
    boxes = [
        LabelledBox(p.species, p.event, p.camera, v) for p, v in zip(photos, vectors, strict=True)
    ]
    groups = held_out_groups(boxes)
    # a burst, and a camera's events, are never split between what is taught and what is asked
    for key in ("event", "camera"):
        placed: dict[str, int] = {}
        for g, members in enumerate(groups):
            for i in members:
                value = getattr(boxes[i], key)
                if value:
                    assert placed.setdefault(value, g) == g, (key, value)
    assert len(boxes) == 34 and len(groups) == 20
    report = evaluate_held_out(boxes, lambda examples: ClassSet(dict(examples)).classify)
    totals = report.totals()
    table = {s: vars(f) for s, f in sorted(report.classes.items())}
    assert (totals.trials, totals.new_trials) == (15, 19), table
    assert report.chance() < 0.1
    assert totals.top1 >= 5 and totals.top2 >= totals.top1 + 1, table
    assert totals.new_unknown >= 1, table


def test_the_embedder_reads_the_neck_of_a_yolox_export(embedder) -> None:
    import onnx

    names = neck_tensors(onnx.load(str(MODELS / "yolox_nano.onnx")))
    assert len(names) == 3 and len(set(names)) == 3
    vectors = embedder.embed(
        [Image.new("RGB", (50, 80), (90, 120, 60)), Image.new("RGB", (300, 120), (20, 20, 20))]
    )
    assert vectors.shape[0] == 2 and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert "yolox_nano.onnx" in embedder.name


def test_a_graph_of_another_shape_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["images"], ["output"])],
        "not-yolox",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 64, 64])],
    )
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ModelLoadError, match="not a YOLOX export"):
        YoloxNeckEmbedder(path)
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError):
        YoloxNeckEmbedder(tmp_path / "junk.onnx")
