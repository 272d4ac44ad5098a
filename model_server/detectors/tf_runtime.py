"""Importing TensorFlow quietly, once, only when a model is actually loaded."""

from __future__ import annotations

import os
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """TensorFlow prints pages of start-up noise unless told not to before the import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    return tf
