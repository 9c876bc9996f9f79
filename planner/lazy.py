"""Modules imported on first use, so the window and its map can show before pandas and geopandas load.

``python -m planner`` builds the main window and starts loading the project's cached map page
before anything reads a project: the GIS modules the window imports (``planner.gis.project``,
``planner.session`` ...) name pandas, geopandas, shapely, pyogrio, pyproj and pyarrow at module
level (~0.6 s of imports on a laptop) but use them only inside functions. Each binds such a
module with :func:`lazy_module`; the first attribute read imports it (on whichever thread
reads the project first) and puts the real module in the caller's namespace, so later reads
cost nothing.

Thread-safe: the import goes through :func:`importlib.import_module` and its per-module locks
(the standard library's ``importlib.util.LazyLoader``, used by ``lazy_loader``, is not
thread-safe before Python 3.12.3, and the project is read on a worker thread while the main
thread may reach the same module).

Type checkers see the real imports: write ::

    if TYPE_CHECKING:
        import geopandas as gpd
    else:
        gpd = lazy_module("geopandas", globals(), "gpd")
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until its first attribute read, then is replaced by it in ``namespace``."""

    __slots__ = ("_name", "_namespace", "_alias")

    def __init__(self, name: str, namespace: dict[str, Any], alias: str) -> None:
        self._name = name
        self._namespace = namespace
        self._alias = alias

    def load(self) -> ModuleType:
        module = importlib.import_module(self._name)
        if self._namespace.get(self._alias) is self:
            self._namespace[self._alias] = module
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.load(), attr)

    def __repr__(self) -> str:
        state = "imported" if self._name in sys.modules else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str, namespace: dict[str, Any], alias: str) -> Any:
    """``name`` imported on first use and then bound as ``namespace[alias]`` (the module itself if
    it is imported already)."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    return LazyModule(name, namespace, alias)
