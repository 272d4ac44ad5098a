"""One log format for both processes, to stdout, so `journalctl -u` tells each job's story."""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(stream=sys.stdout, format=FORMAT,
                        level=(level or os.environ.get("TRAPLINE_LOG_LEVEL", "INFO")).upper(),
                        force=True)
