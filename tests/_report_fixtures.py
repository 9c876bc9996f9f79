"""Shared builders for the report/export tests (small real-data projects from the bundled sample)."""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

XSS = "<img src=x onerror=alert(1)>"
XSS_ID = "RIOT-RKD"
RICH = dict(name=XSS, substation_owned=True, substation_voltage_kv=345, transformer_count=4,
            transformers_n_plus_1=False, land_acres=265, power_price_usd_per_mwh=38.5, cooling_current="air",
            dlc_path="retrofit_possible", hall_type="containers", max_rack_kw=15, water_source="municipal",
            power_permit="granted", zoning="industrial_approved", labour_rating=4)


@lru_cache(maxsize=None)
def _sample() -> Any:
    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.gis.proximity import apply_proximity

    project = open_project(sample_project())
    apply_proximity(project)
    return project


def small_project(site_ids: tuple[str, ...] = (XSS_ID, "CORZ-PEC", "FUFU-ETH")) -> Any:
    """A project with a few sample sites (the first renamed to an HTML payload, with rich data) and all layers."""
    from planner.gis.project import Project
    from planner.model.portfolio import Portfolio

    sample = _sample()
    sites = []
    for sid in site_ids:
        s = sample.portfolio.get(sid)
        sites.append(s.replace(**RICH) if sid == XSS_ID else s)
    portfolio = Portfolio(sites, dict(sample.portfolio.settings), "Test <b>portfolio</b>")
    # real layers, cut to West/Central Texas (where these sites are) so that map pages build fast
    layers = {}
    for name, layer in sample.layers.items():
        gdf = layer.gdf if layer.kind in ("countries", "states") else layer.gdf.cx[-106:-95, 28:34]
        layers[name] = dataclasses.replace(layer, gdf=gdf)
    return Project(None, portfolio, layers)


def full_project() -> Any:
    """The whole sample portfolio with proximity computed (40 sites)."""
    return _sample()
