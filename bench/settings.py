"""The production settings, with STATIC_ROOT moved to a temporary folder so a benchmark leaves the project
tree as it found it (dashboard/settings.py pins STATIC_ROOT to <project>/staticfiles)."""

import os
from pathlib import Path

from dashboard.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
