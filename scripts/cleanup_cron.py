#!/usr/bin/env python3
"""Cron entry point: `python scripts/cleanup_cron.py [--dry-run] [--max-age-days N]`.

Reads the same TRAPLINE_* settings as the service; see shared/cleanup.py for what it removes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.cleanup import main

if __name__ == "__main__":
    sys.exit(main())
