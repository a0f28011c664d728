"""The benchmarks run as scripts and import their helpers (`resultline`, `backpressure`, ...) as
top-level modules from this directory; the tests here import them the same way."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
