"""YOLOX (CSPDarknet backbone, PAFPN neck, decoupled head) written with TensorFlow ops and
loaded from a PyTorch state dict, so a YOLOX checkpoint runs here without PyTorch.

Written from YOLOX's published architecture (Megvii, Apache-2.0): every BaseConv is a
convolution with symmetric (k-1)//2 padding, batch norm (eps 1e-3, as YOLOX's `init_yolo` sets
it) and SiLU; batch norm is folded into the convolution's weights and bias here. Tensors are
NHWC; the output is YOLOX's undecoded layout `[1, N, 4 + 1 + classes]` (grid offsets and log
sizes, then sigmoid objectness and class scores), rows in stride order 8, 16, 32, each row-major."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.errors import ModelLoadError

BN_EPS = 1e-3
IN_CHANNELS = (256, 512, 1024)


@dataclass(frozen=True)
class YoloxSize:
    """depth and width multipliers: tiny 0.33/0.375, nano 0.33/0.25, s 0.33/0.50."""

    depth: float
    width: float

    @property
    def base_channels(self) -> int:
        return int(self.width * 64)

    @property
    def base_depth(self) -> int:
        return max(round(self.depth * 3), 1)

    def channels(self, n: int) -> int:
        return int(n * self.width)


TINY = YoloxSize(0.33, 0.375)


class _Weights:
    """The state dict's convolutions, batch norm folded in, as HWIO kernels and biases."""

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        self.state = state
        self.used: set[str] = set()

    def _take(self, key: str) -> np.ndarray:
        if key not in self.state:
            raise ModelLoadError(f"the checkpoint lacks {key}: not a YOLOX model of this size")
        self.used.add(key)
        return self.state[key].astype(np.float32)

    def base_conv(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        kernel = self._take(f"{prefix}.conv.weight")
        gamma, beta = self._take(f"{prefix}.bn.weight"), self._take(f"{prefix}.bn.bias")
        mean, var = self._take(f"{prefix}.bn.running_mean"), self._take(f"{prefix}.bn.running_var")
        self.used.add(f"{prefix}.bn.num_batches_tracked")
        scale = gamma / np.sqrt(var + BN_EPS)
        folded = kernel * scale[:, None, None, None]
        return folded.transpose(2, 3, 1, 0).copy(), (beta - mean * scale).astype(np.float32)

    def plain_conv(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        kernel = self._take(f"{prefix}.weight")
        return kernel.transpose(2, 3, 1, 0).copy(), self._take(f"{prefix}.bias")


def build_yolox(
    state: dict[str, np.ndarray], size: YoloxSize, num_classes: int, image_size: int
) -> Callable[[Any], Any]:
    """A function from an NHWC float32 batch `[1, S, S, 3]` to `[1, N, 5 + classes]`, with the
    weights as constants (for tf.function and the TFLite converter). Raises ModelLoadError when
    the state dict does not fit (a missing, unused or misshapen weight)."""
    import tensorflow as tf

    w = _Weights(state)

    def conv(x: Any, prefix: str, stride: int = 1) -> Any:
        kernel, bias = w.base_conv(prefix)
        pad = (kernel.shape[0] - 1) // 2
        if pad:
            x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        y = tf.nn.conv2d(x, tf.constant(kernel), strides=stride, padding="VALID")
        y = tf.nn.bias_add(y, tf.constant(bias))
        return y * tf.sigmoid(y)

    def bottleneck(x: Any, prefix: str, shortcut: bool) -> Any:
        y = conv(conv(x, f"{prefix}.conv1"), f"{prefix}.conv2")
        return x + y if shortcut and x.shape[-1] == y.shape[-1] else y

    def csp(x: Any, prefix: str, n: int, shortcut: bool = True) -> Any:
        x1, x2 = conv(x, f"{prefix}.conv1"), conv(x, f"{prefix}.conv2")
        for i in range(n):
            x1 = bottleneck(x1, f"{prefix}.m.{i}", shortcut)
        return conv(tf.concat([x1, x2], axis=-1), f"{prefix}.conv3")

    def spp(x: Any, prefix: str) -> Any:
        x = conv(x, f"{prefix}.conv1")
        pooled = [tf.nn.max_pool2d(x, k, 1, "SAME") for k in (5, 9, 13)]
        return conv(tf.concat([x, *pooled], axis=-1), f"{prefix}.conv2")

    def up(x: Any) -> Any:
        return tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)

    d = size.base_depth
    b = "backbone.backbone"
    n = round(3 * size.depth)

    def forward(image: Any) -> Any:
        # Focus: each 2x2 block's pixels into channels, in YOLOX's order (tl, bl, tr, br)
        x = tf.concat(
            [
                image[:, 0::2, 0::2],
                image[:, 1::2, 0::2],
                image[:, 0::2, 1::2],
                image[:, 1::2, 1::2],
            ],
            axis=-1,
        )
        x = conv(x, f"{b}.stem.conv")
        x = csp(conv(x, f"{b}.dark2.0", 2), f"{b}.dark2.1", d)
        dark3 = csp(conv(x, f"{b}.dark3.0", 2), f"{b}.dark3.1", d * 3)
        dark4 = csp(conv(dark3, f"{b}.dark4.0", 2), f"{b}.dark4.1", d * 3)
        x = spp(conv(dark4, f"{b}.dark5.0", 2), f"{b}.dark5.1")
        dark5 = csp(x, f"{b}.dark5.2", d, shortcut=False)
        fpn_out0 = conv(dark5, "backbone.lateral_conv0")
        f_out0 = csp(tf.concat([up(fpn_out0), dark4], -1), "backbone.C3_p4", n, False)
        fpn_out1 = conv(f_out0, "backbone.reduce_conv1")
        pan_out2 = csp(tf.concat([up(fpn_out1), dark3], -1), "backbone.C3_p3", n, False)
        p_out1 = conv(pan_out2, "backbone.bu_conv2", 2)
        pan_out1 = csp(tf.concat([p_out1, fpn_out1], -1), "backbone.C3_n3", n, False)
        p_out0 = conv(pan_out1, "backbone.bu_conv1", 2)
        pan_out0 = csp(tf.concat([p_out0, fpn_out0], -1), "backbone.C3_n4", n, False)
        rows = []
        for k, feature in enumerate((pan_out2, pan_out1, pan_out0)):
            x = conv(feature, f"head.stems.{k}")
            cls = conv(conv(x, f"head.cls_convs.{k}.0"), f"head.cls_convs.{k}.1")
            reg = conv(conv(x, f"head.reg_convs.{k}.0"), f"head.reg_convs.{k}.1")
            out = tf.concat(
                [
                    _pred(reg, w, f"head.reg_preds.{k}"),
                    tf.sigmoid(_pred(reg, w, f"head.obj_preds.{k}")),
                    tf.sigmoid(_pred(cls, w, f"head.cls_preds.{k}")),
                ],
                axis=-1,
            )
            rows.append(tf.reshape(out, [tf.shape(out)[0], -1, 5 + num_classes]))
        return tf.concat(rows, axis=1)

    # trace once on a blank image so every weight is looked up (and checked) now
    forward(tf.zeros([1, image_size, image_size, 3], tf.float32))
    unused = sorted(set(state) - w.used)
    if unused:
        raise ModelLoadError(
            f"the checkpoint has weights this YOLOX does not use: {', '.join(unused[:3])}…"
        )
    return forward


def _pred(x: Any, w: _Weights, prefix: str) -> Any:
    import tensorflow as tf

    kernel, bias = w.plain_conv(prefix)
    return tf.nn.bias_add(tf.nn.conv2d(x, tf.constant(kernel), 1, "VALID"), tf.constant(bias))
