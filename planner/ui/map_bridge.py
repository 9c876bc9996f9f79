"""The page -> Python channel of the map: a QObject registered on a QWebChannel as ``planner``.

The page is untrusted input: every slot checks its arguments (types, ranges, known site
ids, current mode) and drops anything else with a log line; only valid calls become Qt
signals. Slots take ``QVariant`` so a number sent where a string belongs is seen and
refused instead of being silently converted.

The page never sees :class:`MapBridge` itself (QWebChannel would publish its signals and
QObject's ``deleteLater``): it gets a :class:`BridgeProxy` whose only methods are the four
slots, which forward to the bridge, and whose ``deleteLater`` does nothing.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal, Slot

from planner.fmt import real_number

log = logging.getLogger(__name__)

MAX_SITE_ID_CHARS = 64


class MapBridge(QObject):
    """Validated slots called by the page: ``siteClicked``, ``mapClicked``, ``siteMoved``, ``measureFinished``."""

    site_clicked = Signal(str)
    map_clicked = Signal(float, float)  # lon, lat
    site_moved = Signal(str, float, float)  # site_id, lon, lat
    measure_finished = Signal(float)  # km

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._site_ids: frozenset[str] = frozenset()
        self.mode = "browse"
        self.rejected: list[tuple[str, str]] = []  # (slot, reason), kept for diagnostics and tests

    def set_site_ids(self, ids: Iterable[str]) -> None:
        """Set the ids ``siteClicked``/``siteMoved`` accept (the sites on the current map)."""
        self._site_ids = frozenset(ids)

    # -- validation ------------------------------------------------------------------
    def _reject(self, slot: str, reason: str) -> None:
        self.rejected.append((slot, reason))
        del self.rejected[:-100]
        log.warning("map bridge: ignored %s: %s", slot, reason)

    def _site_id(self, slot: str, value: Any) -> str | None:
        if not isinstance(value, str):
            self._reject(slot, f"site_id must be a string, got {type(value).__name__}")
            return None
        if not value or len(value) > MAX_SITE_ID_CHARS:
            self._reject(slot, f"site_id must be 1-{MAX_SITE_ID_CHARS} characters, got {len(value)}")
            return None
        if value not in self._site_ids:
            self._reject(slot, f"unknown site_id {value[:MAX_SITE_ID_CHARS]!r}")
            return None
        return value

    def _lon_lat(self, slot: str, lon: Any, lat: Any) -> tuple[float, float] | None:
        for name, v, lim in (("lon", lon, 180.0), ("lat", lat, 90.0)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self._reject(slot, f"{name} must be a number, got {type(v).__name__}")
                return None
            if not math.isfinite(v) or not -lim <= v <= lim:
                self._reject(slot, f"{name} = {v!r} outside -{lim:g}..{lim:g}")
                return None
        return float(lon), float(lat)

    # -- slots (names fixed by the page: planner_map.js) ---------------------------------
    @Slot("QVariant")
    def siteClicked(self, site_id: Any) -> None:  # noqa: N802 - name is the JS API
        sid = self._site_id("siteClicked", site_id)
        if sid is not None:
            self.site_clicked.emit(sid)

    @Slot("QVariant", "QVariant")
    def mapClicked(self, lon: Any, lat: Any) -> None:  # noqa: N802
        if self.mode != "add":
            self._reject("mapClicked", f"only accepted in add mode (mode is {self.mode!r})")
            return
        ll = self._lon_lat("mapClicked", lon, lat)
        if ll is not None:
            self.map_clicked.emit(*ll)

    @Slot("QVariant", "QVariant", "QVariant")
    def siteMoved(self, site_id: Any, lon: Any, lat: Any) -> None:  # noqa: N802
        if self.mode != "move":
            self._reject("siteMoved", f"only accepted in move mode (mode is {self.mode!r})")
            return
        sid = self._site_id("siteMoved", site_id)
        ll = self._lon_lat("siteMoved", lon, lat) if sid is not None else None
        if sid is not None and ll is not None:
            self.site_moved.emit(sid, *ll)

    @Slot("QVariant")
    def measureFinished(self, km: Any) -> None:  # noqa: N802
        if real_number(km) is None or not 0 <= km <= 100_000:
            self._reject("measureFinished", f"km must be a finite number 0..100000, got {km!r}")
            return
        self.measure_finished.emit(float(km))


class BridgeProxy(QObject):
    """What the page gets on the channel: the four slots and nothing else.

    It has no signals of its own and holds the bridge as a plain Python attribute (invisible
    to QWebChannel). QWebChannel offers every QObject's ``deleteLater`` to the page; the
    proxy ignores deferred deletes, so ``planner.deleteLater()`` cannot end the channel.
    """

    def __init__(self, bridge: MapBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge

    def event(self, event: QEvent) -> bool:
        # QWebChannel runs QObject::deleteLater itself when the page calls planner.deleteLater();
        # the deferred delete is dropped here (the proxy dies with its parent, the map view)
        if event.type() == QEvent.Type.DeferredDelete:
            self._bridge._reject("deleteLater", "the page may not delete the bridge")
            return True
        return super().event(event)

    @Slot("QVariant")
    def siteClicked(self, site_id: Any) -> None:  # noqa: N802
        self._bridge.siteClicked(site_id)

    @Slot("QVariant", "QVariant")
    def mapClicked(self, lon: Any, lat: Any) -> None:  # noqa: N802
        self._bridge.mapClicked(lon, lat)

    @Slot("QVariant", "QVariant", "QVariant")
    def siteMoved(self, site_id: Any, lon: Any, lat: Any) -> None:  # noqa: N802
        self._bridge.siteMoved(site_id, lon, lat)

    @Slot("QVariant")
    def measureFinished(self, km: Any) -> None:  # noqa: N802
        self._bridge.measureFinished(km)
