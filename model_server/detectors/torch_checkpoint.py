"""PyTorch checkpoints read without PyTorch: a `.pth` file is a zip holding a pickle
(`<root>/data.pkl`) whose tensors point at raw little-endian storages (`<root>/data/<key>`).
The pickle is read by an unpickler that knows only tensors and plain containers: any other
class or function it names (`os.system`, a model class, ...) is refused before anything runs, so
a checkpoint cannot execute code here."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import ModelLoadError

# torch's storage classes as numpy dtypes (all little-endian on disk)
STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
MAX_MEMBER_BYTES = 2 << 30


class UnsafeCheckpoint(ModelLoadError):
    """The checkpoint's pickle names something other than tensors and plain containers."""


class _Storage:
    """A storage's dtype, as the pickle names it (`torch.FloatStorage`)."""

    def __init__(self, name: str) -> None:
        self.name, self.dtype = name, np.dtype(STORAGE_DTYPES[name]).newbyteorder("<")


def _rebuild_tensor_v2(
    storage: np.ndarray,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    requires_grad: bool = False,
    hooks: Any = None,
    metadata: Any = None,
) -> np.ndarray:
    """torch._utils._rebuild_tensor_v2: a view of `size` with element `stride` from `offset`."""
    if not size:
        return storage[offset : offset + 1].reshape(()).copy()
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if any(n < 0 for n in size) or any(s < 0 for s in stride) or last >= storage.size:
        raise ModelLoadError("a tensor in the checkpoint reaches past its storage")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=[s * item for s in stride], writeable=False
    )
    return np.array(view)  # a copy in C order, free of the storage


def _allowed(module: str, name: str) -> Any:
    if (module, name) == ("collections", "OrderedDict"):
        return OrderedDict
    if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
        return _rebuild_tensor_v2
    if module == "torch" and name in STORAGE_DTYPES:
        return _Storage(name)
    raise UnsafeCheckpoint(
        f"the checkpoint's pickle names {module}.{name}: only tensors and plain containers are read"
    )


class _Reader(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._root = archive, root
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        return _allowed(module, name)

    def persistent_load(self, pid: Any) -> np.ndarray:
        """('storage', storage type, key, location, number of elements)"""
        if not (
            isinstance(pid, tuple)
            and len(pid) == 5
            and pid[0] == "storage"
            and isinstance(pid[1], _Storage)
        ):
            raise UnsafeCheckpoint(f"an unknown persistent reference in the checkpoint: {pid!r}")
        _, kind, key, _location, numel = pid
        if key not in self._storages:
            try:
                info = self._archive.getinfo(f"{self._root}/data/{key}")
            except KeyError:
                raise ModelLoadError(f"the checkpoint lacks storage {key}") from None
            if info.file_size > MAX_MEMBER_BYTES or info.file_size < numel * kind.dtype.itemsize:
                raise ModelLoadError(f"storage {key} of the checkpoint has the wrong size")
            raw = self._archive.read(info)
            self._storages[key] = np.frombuffer(raw, dtype=kind.dtype, count=numel)
        return self._storages[key]


def read_checkpoint(path: Path) -> Any:
    """The checkpoint's object (usually a dict with a `model` state dict) with every tensor as a
    numpy array. Raises ModelLoadError for an unreadable file, UnsafeCheckpoint for a pickle
    naming anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise ModelLoadError(f"{path.name} is not a PyTorch zip checkpoint")
            root = pickles[0].rsplit("/", 1)[0]
            return _Reader(archive.read(pickles[0]), archive, root).load()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelLoadError(f"{path.name} is not a readable PyTorch checkpoint: {exc}") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path.name}: its pickle is damaged ({exc})") from exc


def state_dict(checkpoint: Any) -> dict[str, np.ndarray]:
    """The model's weights: `checkpoint["model"]` (YOLOX's layout) or the checkpoint itself."""
    found = checkpoint.get("model", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(found, dict):
        raise ModelLoadError("the checkpoint holds no state dict")
    return {str(k): v for k, v in found.items() if isinstance(v, np.ndarray)}
