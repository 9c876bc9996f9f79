"""Site Conversion Planner: Bitcoin-mining sites as AI/HPC data centers."""
from __future__ import annotations

try:  # the installed distribution is the single source of the version
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("site-conversion-planner")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.1.0"

APP_NAME = "Site Conversion Planner"
