"""The portfolio: ordered sites plus the analyst's assumptions and weights, with change signals.

Pure Python (psygnal signals, no Qt). The UI subscribes; undo commands call the
mutators here and nothing else.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from psygnal import Signal

from planner.model.site import PlannerError, Site


class PortfolioError(PlannerError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0]) if self.args else ""


class Portfolio:
    """Ordered collection of :class:`Site` keyed by ``site_id``.

    Signals (past tense): ``sites_changed(list[str])`` after sites were replaced,
    ``site_added(str)``, ``site_removed(str)``, ``settings_changed(str)`` with the
    settings key ("assumptions", "weights", "scenario", ...).
    """

    sites_changed = Signal(list)
    site_added = Signal(str)
    site_removed = Signal(str)
    settings_changed = Signal(str)

    def __init__(self, sites: Iterable[Site] = (), settings: dict[str, Any] | None = None,
                 name: str = "Untitled portfolio"):
        self._sites: dict[str, Site] = {}
        for s in sites:
            if s.site_id in self._sites:
                raise PortfolioError(f"duplicate site_id {s.site_id!r}; each site needs a unique ID")
            self._sites[s.site_id] = s
        # JSON-serialisable analyst settings: {"assumptions": {...overrides}, "weights": {...},
        # "weights_profile": "default", "scenario": "base", "unit_costs": {...}, ...}
        self.settings: dict[str, Any] = copy.deepcopy(settings) if settings else {}
        self.name = name

    # -- read ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._sites)

    def __iter__(self) -> Iterator[Site]:
        return iter(list(self._sites.values()))

    def __contains__(self, site_id: object) -> bool:
        return site_id in self._sites

    def ids(self) -> list[str]:
        return list(self._sites)

    def get(self, site_id: str) -> Site:
        try:
            return self._sites[site_id]
        except KeyError:
            raise PortfolioError(f"no site with site_id {site_id!r}") from None

    def index_of(self, site_id: str) -> int:
        return self.ids().index(site_id)

    # -- mutate (only undo commands and loaders call these) -----------------------
    def replace_sites(self, sites: Iterable[Site]) -> None:
        """Replace existing sites (matched by site_id) and emit one ``sites_changed``."""
        changed = []
        for s in sites:
            if s.site_id not in self._sites:
                raise PortfolioError(f"no site with site_id {s.site_id!r}")
            self._sites[s.site_id] = s
            changed.append(s.site_id)
        if changed:
            self.sites_changed.emit(changed)

    def add_site(self, site: Site, index: int | None = None) -> None:
        if site.site_id in self._sites:
            raise PortfolioError(f"site_id {site.site_id!r} already exists; choose another ID")
        if index is None or index >= len(self._sites):
            self._sites[site.site_id] = site  # append: O(1), so bulk imports stay linear
        else:
            items = list(self._sites.items())
            items.insert(max(0, index), (site.site_id, site))
            self._sites = dict(items)
        self.site_added.emit(site.site_id)

    def remove_site(self, site_id: str) -> tuple[int, Site]:
        site = self.get(site_id)
        idx = self.index_of(site_id)
        del self._sites[site_id]
        self.site_removed.emit(site_id)
        return idx, site

    def set_setting(self, key: str, value: Any) -> None:
        self.settings[key] = copy.deepcopy(value)
        self.settings_changed.emit(key)

    def unique_id(self, base: str) -> str:
        """A site_id not yet used, derived from ``base`` (``base``, ``base-2``, ...)."""
        if base not in self._sites:
            return base
        n = 2
        while f"{base}-{n}" in self._sites:
            n += 1
        return f"{base}-{n}"
