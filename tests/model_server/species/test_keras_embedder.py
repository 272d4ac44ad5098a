"""The ImageNet embedder: Keras's MobileNetV3-Large loaded from a weight file in the format
Keras publishes it (a legacy HDF5 file without the classifier). The real weights cannot be
fetched here, so the test writes such a file from a freshly built network and checks that what
is loaded is that file: the embedder's vectors equal the network's own pooled output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_server.detectors.download import KERAS_MOBILENET_V3
from model_server.species.embedder import KerasMobileNetEmbedder, load_embedder
from shared.errors import ModelLoadError


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory):
    import h5py
    import tensorflow as tf
    from keras.src.legacy.saving import legacy_h5_format

    tf.keras.utils.set_random_seed(3)
    model = tf.keras.applications.MobileNetV3Large(
        input_shape=(224, 224, 3), include_top=False, pooling="avg", weights=None
    )
    path = tmp_path_factory.mktemp("keras") / KERAS_MOBILENET_V3
    with h5py.File(path, "w") as fh:
        legacy_h5_format.save_weights_to_hdf5_group(fh, model)
    return path, model


def test_the_weight_file_is_what_the_embedder_runs(weights) -> None:
    path, model = weights
    embedder = load_embedder(path)
    assert isinstance(embedder, KerasMobileNetEmbedder)
    assert KERAS_MOBILENET_V3 in embedder.name
    crops = [Image.new("RGB", (60, 90), (10, 200, 30)), Image.new("RGB", (300, 100), (200, 10, 30))]
    vectors = embedder.embed(crops)
    assert vectors.shape == (2, 960)
    pixels = np.stack(
        [
            np.asarray(c.resize((224, 224), Image.Resampling.BILINEAR), dtype=np.float32)
            for c in crops
        ]
    )
    pooled = np.array(model(pixels, training=False))
    expected = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    assert np.allclose(vectors, expected, atol=1e-5)


def test_another_file_is_refused(tmp_path: Path) -> None:
    import h5py

    wrong = tmp_path / "weights.h5"
    with h5py.File(wrong, "w") as fh:
        fh.create_dataset("nothing", data=[1, 2, 3])
    with pytest.raises(ModelLoadError):
        load_embedder(wrong)
