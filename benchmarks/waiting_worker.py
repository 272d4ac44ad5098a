"""A model server whose detector is a stand-in that waits a fixed time per photo, as a
GPU-bound detector keeps its server busy while leaving the CPUs free (`bench_chunks`):

    python -m benchmarks.waiting_worker --wait 0.2 [trapline-worker's own options]

Everything else (queue, leases, chunks, store, outputs) is the real model server."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from model_server.detectors.base import Category, Detection, ModelInfo
from model_server.service import worker


class WaitingDetector:
    """One fixed animal box per photo, after `seconds` of waiting."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.info = ModelInfo(
            f"stand-in waiting {seconds * 1000:.0f} ms a photo", "waiting", 0.5, 0.3
        )
        self._box = [Detection(Category.ANIMAL, 0.9, (0.1, 0.2, 0.3, 0.4))]

    def detect(self, image: np.ndarray, source: str) -> list[Detection]:
        time.sleep(self.seconds)
        return list(self._box)

    def close(self) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", type=float, required=True, help="seconds per photo")
    args, rest = parser.parse_known_args()

    def load(path: Path, **_: Any) -> WaitingDetector:
        return WaitingDetector(args.wait)

    return worker.main(rest, load=load)


if __name__ == "__main__":
    sys.exit(main())
