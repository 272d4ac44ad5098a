"""Embeddings of animal crops for the species classifier, behind one small interface
(`embed(crops) -> vectors`, L2-normalised rows), loaded once per model server.

The offline default is the neck of a real detector already here: a YOLOX export run by
onnxruntime (the shared YOLOX-Nano, trained on COCO, which has birds, bears, dogs, cats and
hoofed animals among its classes). Each crop is letterboxed into the detector's input as the
detector itself is fed, and the three feature maps the detection head reads (strides 8, 16 and
32) are averaged over the part of the canvas the crop covers; each level is L2-normalised, then
the three are joined and normalised again. Chosen by leave-one-out on the shared ENA24 boxes
(README, "Species from examples"): these features beat MegadetectorLite's neck, which was
trained to tell "animal" from background and not one animal from another.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from model_server.detectors.onnx_detector import onnx_session
from model_server.detectors.yolo_decode import letterbox
from shared.errors import ModelLoadError

# the class branch back from its scores: Sigmoid <- Conv (prediction) <- SiLU (Mul) <- Conv <-
# SiLU <- Conv <- SiLU <- Conv (the stem), whose input is the neck
STEPS = ("Sigmoid", "Conv", "Mul", "Conv", "Mul", "Conv", "Mul", "Conv")
# The default embedder's file name: `setup.sh` and the deploy steps install it beside the detector
DEFAULT_FILE = "yolox_nano.onnx"


class Embedder(Protocol):
    name: str  # stored with every class set: vectors of two models cannot be compared

    def embed(self, crops: Sequence[Image.Image]) -> np.ndarray:
        """One L2-normalised row per crop."""
        ...


def neck_tensors(model: Any) -> list[str]:
    """The names of the three feature maps a YOLOX export's head reads, finest first. Each
    level's output is a Concat of (box Conv, objectness Sigmoid, class Sigmoid); from the class
    scores back through the class branch (prediction Conv, two SiLU convs, the stem's SiLU conv)
    is the neck's output. Raises ModelLoadError for a graph of another shape."""
    producer = {out: node for node in model.graph.node for out in node.output}

    def back(tensor: str, ops: tuple[str, ...]) -> str:
        for op in ops:
            node = producer.get(tensor)
            if node is None or node.op_type != op:
                raise ModelLoadError("not a YOLOX export: its head is not where YOLOX has it")
            tensor = node.input[0]
        return tensor

    levels = []
    for node in model.graph.node:
        kinds = [producer[i].op_type if i in producer else "" for i in node.input]
        if node.op_type == "Concat" and kinds == ["Conv", "Sigmoid", "Sigmoid"]:
            levels.append(back(node.input[2], STEPS))
    if len(levels) != 3:
        raise ModelLoadError(f"not a YOLOX export: {len(levels)} detection levels, not 3")
    return levels


class YoloxNeckEmbedder:
    """The neck features of a YOLOX ONNX export (COCO YOLOX: BGR, 114 grey padding, bilinear,
    the crop at the top left), averaged over the crop."""

    def __init__(self, path: Path, *, threads: int = 0) -> None:
        import onnx

        try:
            model = onnx.load(str(path))
        except Exception as exc:  # onnx raises its own decode errors
            raise ModelLoadError(f"{path} is not a readable ONNX model: {exc}") from exc
        self._outputs = neck_tensors(model)
        known = {o.name for o in model.graph.output}
        for name in self._outputs:
            if name not in known:
                model.graph.output.append(
                    onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                )
        dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        if len(dims) != 4 or dims[1] != 3 or dims[2] != dims[3] or dims[2] <= 0:
            raise ModelLoadError(f"{path}: expected an input [1, 3, S, S], not {dims}")
        self.size = dims[2]
        self._input = model.graph.input[0].name
        self._session = onnx_session(model.SerializeToString(), threads)
        self.name = f"YOLOX neck features ({path.name}, averaged over the box)"

    def embed(self, crops: Sequence[Image.Image]) -> np.ndarray:
        return np.stack([self._one(crop) for crop in crops]) if crops else np.zeros((0, 0))

    def _one(self, crop: Image.Image) -> np.ndarray:
        rgb = np.asarray(crop.convert("RGB"))
        canvas, scale, _ = letterbox(
            rgb, self.size, resample=Image.Resampling.BILINEAR, pad_value=114, bgr=True
        )
        maps = self._session.run(self._outputs, {self._input: canvas.transpose(2, 0, 1)[None]})
        height, width = rgb.shape[:2]
        parts = []
        for level in maps:
            features = level[0]  # [C, H, W]
            stride = self.size / features.shape[1]
            rows = max(1, round(height * scale / stride))
            cols = max(1, round(width * scale / stride))
            pooled = features[:, :rows, :cols].mean(axis=(1, 2))
            parts.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        joined = np.concatenate(parts)
        return (joined / np.linalg.norm(joined)).astype(np.float32)


class KerasMobileNetEmbedder:
    """ImageNet features from Keras's MobileNetV3-Large without its classifier (the weight file
    `trapline-models download mobilenet_v3_imagenet` fetches, checked with Keras's MD5): each
    crop resized to 224 x 224, the network's global average pool (960 values)."""

    SIZE = 224
    BATCH = 32

    def __init__(self, path: Path) -> None:
        from model_server.detectors.tf_runtime import import_tensorflow

        tf = import_tensorflow()
        try:
            self._model = tf.keras.applications.MobileNetV3Large(
                input_shape=(self.SIZE, self.SIZE, 3),
                include_top=False,
                pooling="avg",
                weights=str(path),
            )
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{path} is not MobileNetV3-Large's weight file: {exc}") from exc
        self.name = f"Keras MobileNetV3-Large ImageNet features ({path.name}, the crop at 224)"

    def embed(self, crops: Sequence[Image.Image]) -> np.ndarray:
        rows = []
        for start in range(0, len(crops), self.BATCH):
            batch = np.stack(
                [
                    np.asarray(
                        c.convert("RGB").resize((self.SIZE, self.SIZE), Image.Resampling.BILINEAR),
                        dtype=np.float32,
                    )
                    for c in crops[start : start + self.BATCH]
                ]
            )
            rows.append(np.asarray(self._model(batch, training=False)))
        if not rows:
            return np.zeros((0, 0), np.float32)
        found = np.concatenate(rows)
        norms = np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-12)
        return (found / norms).astype(np.float32)


def embedder_path(configured: Path | None, model: Path | None) -> Path | None:
    """The embedder to use: the one the settings name (`TRAPLINE_SPECIES_EMBEDDER`), else the
    default one where it is installed, beside the detector model (`models/` of a checkout after
    `setup.sh`, `/srv/trapline/models` after the deploy steps), so nothing else needs setting."""
    if configured is not None:
        return configured
    if model is not None and (model.parent / DEFAULT_FILE).is_file():
        return model.parent / DEFAULT_FILE
    return None


def load_embedder(path: Path | None, *, threads: int = 0) -> Embedder:
    """The embedder the settings name (`TRAPLINE_SPECIES_EMBEDDER`): a YOLOX ONNX export, or
    Keras's MobileNetV3-Large ImageNet weights (`.h5`)."""
    if path is None:
        raise ModelLoadError(
            f"no species embedder is installed: put {DEFAULT_FILE} beside the detector model "
            "(`trapline-models download yolox_nano_onnx --dir <the model's folder>`, with "
            "`--file` for a copy you already have) or set TRAPLINE_SPECIES_EMBEDDER"
        )
    if not path.is_file():
        raise ModelLoadError(f"the species embedder {path} does not exist")
    if path.suffix.lower() == ".h5":
        return KerasMobileNetEmbedder(path)
    return YoloxNeckEmbedder(path, threads=threads)
