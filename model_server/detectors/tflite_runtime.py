"""The TFLite interpreter, from LiteRT (`ai-edge-litert`, Google's standalone TFLite runtime)
rather than from TensorFlow: the same kernels and the same outputs (identical to the last bit on
MegadetectorLite and YOLOX-Nano here), without importing all of TensorFlow (5-6 s and ~500 MB
before the first photo). TensorFlow's copy stays the fallback where no LiteRT wheel exists."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def tflite_interpreter(path: Path, threads: int) -> tuple[Any, str]:
    """An allocated interpreter for the model file and the runtime's name. Raises ValueError or
    RuntimeError for a file that is not a usable model, as both runtimes do."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from model_server.detectors.tf_runtime import import_tensorflow

        tf = import_tensorflow()
        with warnings.catch_warnings():
            # tf.lite.Interpreter announces its move to ai_edge_litert; it still works in 2.21
            warnings.simplefilter("ignore")
            interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=threads)
        runtime = f"TensorFlow {tf.__version__} (tf.lite)"
    else:
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        runtime = "LiteRT (ai-edge-litert)"
    interpreter.allocate_tensors()
    return interpreter, runtime
