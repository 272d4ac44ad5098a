"""Small ONNX graphs built in the tests with the `onnx` package: a fixed set of output rows that
still depends on the input (so onnxruntime really runs the graph on the image it is given)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def fixed_rows_model(
    path: Path, rows: np.ndarray, *, size: int = 1280, scaled: tuple[int, int] | None = None
) -> Path:
    """Input `images` [1, 3, size, size]; output `output` [1, N, C] = `rows`, except that the
    cell `scaled` (row, column) is multiplied by the input's largest value (1.0 for a white
    image scaled to 0-1, 255 unscaled)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rows = rows.astype(np.float32)[np.newaxis]
    mask = np.zeros_like(rows)
    base = rows.copy()
    if scaled is not None:
        mask[0, scaled[0], scaled[1]] = rows[0, scaled[0], scaled[1]]
        base[0, scaled[0], scaled[1]] = 0.0
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMax", ["images"], ["peak"], keepdims=0),
            helper.make_node("Mul", ["mask", "peak"], ["varying"]),
            helper.make_node("Add", ["base", "varying"], ["output"]),
        ],
        "fixed_rows",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(rows.shape))],
        [numpy_helper.from_array(base, "base"), numpy_helper.from_array(mask, "mask")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
