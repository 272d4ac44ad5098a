"""Importing TensorFlow quietly, once, only when a model is actually loaded."""

from __future__ import annotations

import os
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """TensorFlow prints pages of start-up noise unless told not to before the import. Its
    oneDNN optimisations stay on: turning them off made a MegaDetector-like graph 1.29 times
    slower here (`benchmarks/bench_backends.py`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf
