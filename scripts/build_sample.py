"""Build the bundled sample project ``maps/sample_portfolio.gpkg`` from the shared public data.

Usage: ``python scripts/build_sample.py [--data DIR] [--out maps/sample_portfolio.gpkg]``
(default data folder: ``../shared/data`` relative to the repository). Every derivation
is documented in ``maps/README.md``; nothing is invented: unknown stays unknown.
Also copies ``DATA_ATTRIBUTION.md`` to ``resources/`` so the installed app can show it.
"""
from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from planner.gis.io import map_location_precision, map_status, read_layer  # noqa: E402
from planner.gis.project import MapLayer, Project, default_style, save_project  # noqa: E402
from planner.gis.proximity import apply_proximity  # noqa: E402
from planner.model.portfolio import Portfolio  # noqa: E402
from planner.model.site import Site  # noqa: E402

SUBSTATION_TYPES = ("substation", "sub_station", "station")
FLARES_OUTSIDE_US = 2500  # largest non-US flares kept (by 2015 flared volume); see maps/README.md

AI_STATUS_TEXT = {
    "announced_conversion": "announced conversion to AI/HPC",
    "announced_ai_new_build": "announced AI/HPC new build on the site",
    "planned_or_evaluating": "AI/HPC planned or under evaluation (no announced deal)",
    "none_found": "no AI/HPC plan found in the searched sources",
}


# Attributes stated in the compilation's own `mw_notes` text (quoted as the basis, kept in the
# site's notes). Nothing here is estimated: each value restates a figure from the cited sources.
STATED_FACTS: dict[str, tuple[dict[str, Any], str]] = {
    "CORZ-DEN": ({"land_acres": 78}, "lease 31->78 acres (Nov 2024)"),
    "IREN-CHI": ({"max_rack_kw": 200, "dlc_path": "dlc_ready", "cooling_current": "mixed"},
                 "Horizon 1 = 75 MW AI data center, liquid-cooled, up to 200 kW/rack"),
    "IREN-PG": ({"hall_type": "mixed"}, "bitcoin miners and AI servers in same halls"),
    "WULF-LM": ({"substation_voltage_kv": 345}, "dual 345 kV lines"),
    "HUT-RB": ({"land_acres": 627, "land_expandable": True}, "campus 627 acres expandable to 2,988"),
    "CIFR-BL": ({"land_acres": 587}, "587 acres, expandable to 500 MW"),
    "RIOT-RKD": ({"land_acres": 200}, "200 acres bought for $96M"),
    "RIOT-COR": ({"interconnection_status": "energized"}, "1.0 GW ERCOT-approved; 400 MW mining"),
    "CLSK-BRZ": ({"land_acres": 447, "interconnection_status": "approved"},
                 "447 acres; 300 MW initial, expandable to 600 MW"),
    "BTDR-TYD": ({"cooling_current": "immersion"}, "175 MW immersion mining DC under construction (2023)"),
    "BTCM-ETH": ({"power_price_usd_per_mwh": 31.4}, "EEP tariff ~3.14 USc/kWh"),
    "GREE-DRE": ({"moratorium_risk": "high"}, "Title V permit renewal denied June 2022 (litigation)"),
}


def _num(v: Any) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def site_from_row(row: dict[str, Any]) -> Site:
    """One public-compilation row -> Site, deriving only what the row states (see maps/README.md)."""
    energized = _num(row["mw_energized_or_operating"])
    total = _num(row["mw_total_or_pipeline"])
    known = [v for v in (total, energized) if v is not None]
    capacity = max(known) if known else None
    pipeline = capacity - energized if capacity is not None and energized is not None else None
    interconnection = "energized" if energized is not None and energized > 0 else None
    lat, lon = _num(row["lat"]), _num(row["lon"])
    notes = []
    for label, key in (("MW", "mw_notes"), ("Stranded-energy context", "stranded_energy_context"),
                       ("Former mining site", "former_mining_site"), ("Location", "location_precision"),
                       ("Verification", "verification")):
        value = _text(row.get(key))
        if value:
            notes.append(f"{label}: {value}")
    status_word = _text(row["ai_hpc_status"])
    if status_word in AI_STATUS_TEXT:
        notes.insert(0, f"AI/HPC: {AI_STATUS_TEXT[status_word]}")
    extra, basis = STATED_FACTS.get(row["site_id"], ({}, ""))
    if extra:
        notes.append(f"Stated in sources: {basis} -> " + ", ".join(f"{k} = {v}" for k, v in extra.items()))
    gid = _text(row.get("geonames_id"))
    if gid:
        notes.append(f"GeoNames id {gid.split('.')[0]}")
    return Site.create(
        site_id=row["site_id"], name=row["site_name"], operator=_text(row["operator"]),
        locality=_text(row["locality"]), admin1=_text(row["admin1"]), country=_text(row["country"]),
        lon=lon, lat=lat, location_precision=map_location_precision(row["location_precision"]) if lat is not None else None,
        status=map_status(status_word), ai_partner=_text(row["ai_hpc_partner"]),
        energized_mw=energized, power_capacity_mw=capacity, pipeline_mw=pipeline,
        interconnection_status=interconnection,
        notes="\n".join(notes), sources=_text(row["sources"]),
        **{k: v for k, v in extra.items() if k != "interconnection_status"},
    ).replace(**{k: v for k, v in extra.items() if k == "interconnection_status"})


def build_sites(data: Path) -> list[Site]:
    """All rows of mining_sites_public.csv as sites (two have no location)."""
    df = pd.read_csv(data / "mining_sites_public.csv", dtype={"geonames_id": str})
    return [site_from_row(r) for r in df.to_dict("records")]


def _layer(name: str, kind: str, title: str, gdf: gpd.GeoDataFrame, source: str) -> MapLayer:
    return MapLayer(name=name, kind=kind, title=title, gdf=gdf.reset_index(drop=True), source=source,
                    style=default_style(kind))


# Census regions: the GridKit extracts Countries/USA/{South,Midwest,Northeast} follow them (checked:
# every line of the shared file has its midpoint in its region's states, bar a few border crossings).
GRID_US_REGIONS: dict[str, tuple[str, ...]] = {
    "USA-South": ("DE", "MD", "DC", "VA", "WV", "NC", "SC", "GA", "FL", "KY", "TN", "AL", "MS", "AR", "LA",
                  "OK", "TX"),
    "USA-Midwest": ("OH", "IN", "IL", "MI", "WI", "MN", "IA", "MO", "ND", "SD", "NE", "KS"),
    "USA-Northeast": ("ME", "NH", "VT", "MA", "RI", "CT", "NY", "NJ", "PA"),
}
#: Outside North America the grid file keeps the lines within ~500 km of each located site (MANIFEST:
#: EPSG:3857 buffer of 800 km, i.e. ~360 km of ground at Tydal's 63 N). A disc of this radius around
#: each such site is stated as covered: any line within 175 km of a point in the disc was kept, and
#: beyond 60 km every grid-proximity curve is already flat.
GRID_ABROAD_RADIUS_KM = 150.0
#: Coverage outlines are widened and simplified by this much (~2 km): a site within ~2 km outside a
#: covered border counts as covered, which moves no score (the nearest line is then across the border).
COVERAGE_SLACK_DEG = 0.02
_GEOD = Geod(ellps="WGS84")


def _disc(lon: float, lat: float, radius_km: float) -> Any:
    az = np.linspace(0.0, 360.0, 73)[:-1]
    x, y, _ = _GEOD.fwd(np.full(len(az), lon), np.full(len(az), lat), az, np.full(len(az), radius_km * 1000.0))
    return shapely.Polygon(np.column_stack([x, y]))


def grid_coverage(data: Path) -> dict[str, Any]:
    """Area the national grid file covers, one polygon per region of MANIFEST.txt (the US West is absent)."""
    states, _ = read_layer(data / "us_states_census2016_simplified.geojson", kind="states")
    out = {region: states.loc[states["STUSPS"].isin(codes), "geometry"].union_all()
           for region, codes in GRID_US_REGIONS.items()}
    countries, _ = read_layer(data / "ne_110m_admin_0_countries.geojson", kind="countries")
    out["Canada"] = countries.loc[countries["ADM0_A3"] == "CAN", "geometry"].union_all()
    sites = pd.read_csv(data / "mining_sites_public.csv")
    abroad = sites[~sites["country"].isin(["US", "CA"]) & sites["lat"].notna() & sites["lon"].notna()]
    for country, rows in abroad.groupby("country"):
        out[f"near the {country} sites"] = shapely.union_all(
            [_disc(r.lon, r.lat, GRID_ABROAD_RADIUS_KM) for r in rows.itertuples()])
    return {region: _outline(area) for region, area in out.items()}


def _outline(area: Any) -> Any:
    """``area`` widened by COVERAGE_SLACK_DEG and simplified by as much: it still covers ``area`` and is
    small enough to store in the project metadata (the coverage is saved once per layer)."""
    return shapely.simplify(shapely.buffer(area, COVERAGE_SLACK_DEG, quad_segs=2), COVERAGE_SLACK_DEG)


def _conus(data: Path) -> Any:
    """The contiguous US (Census 2016 states), the area the fibre and PoP data cover."""
    states, _ = read_layer(data / "us_states_census2016_simplified.geojson", kind="states")
    return _outline(states.loc[~states["STUSPS"].isin(["AK", "HI", "PR", "VI", "GU", "AS", "MP"]),
                               "geometry"].union_all())


def build_layers(data: Path) -> list[MapLayer]:
    """The map layers of the sample, from the shared data files."""
    conus = _conus(data)
    grid_regions = grid_coverage(data)
    grid_area = shapely.union_all(list(grid_regions.values()))
    grid_label = "US South, Midwest and Northeast; Canada; within 150 km of the sites in Norway, Bhutan, Paraguay"
    osm = "(c) OpenStreetMap contributors, ODbL 1.0 (via GridKit / ComplexNetTSP Power_grids, 2017)"
    zoo = "Internet Topology Zoo, CC BY 4.0 (Knight et al., IEEE JSAC 29(9), 2011)"
    layers: list[MapLayer] = []

    lines, _ = read_layer(data / "grid_osm2017_hv_lines.geojson", kind="transmission")
    # GridKit ids are per extract, not unique across regions (MANIFEST): dropped with the topology columns
    lines = lines.drop(columns=[c for c in ("l_id", "v_id_1", "v_id_2", "frequency", "cables", "ref") if c in lines])
    lines["length_m"] = pd.to_numeric(lines["length_m"], errors="coerce")
    layers.append(_layer("transmission", "transmission", "HV lines, US (no West), Canada, near sites abroad (OSM 2017)",
                         lines, osm))
    layers[-1].coverage, layers[-1].coverage_label = grid_area, grid_label

    nodes, _ = read_layer(data / "grid_osm2017_hv_nodes.geojson", kind="substations")
    subs = nodes[nodes["typ"].isin(SUBSTATION_TYPES)].drop(columns=["v_id", "frequency", "ref"], errors="ignore")
    layers.append(_layer("substations", "substations", "Substations, US (no West), Canada, near sites abroad (OSM 2017)", subs, osm))
    layers[-1].coverage, layers[-1].coverage_label = grid_area, grid_label

    links, _ = read_layer(data / "us_topology_zoo_backbone_links.geojson", kind="fibre")
    layers.append(_layer("fibre", "fibre", "Backbone links, US (Topology Zoo)", links, zoo))
    layers[-1].coverage, layers[-1].coverage_label = conus, "contiguous US"

    pops, _ = read_layer(data / "us_topology_zoo_pops.geojson", kind="pops")
    pops = pops.drop_duplicates(subset=["network", "node"], keep="first")
    layers.append(_layer("pops", "pops", "Points of presence, US (Topology Zoo)", pops, zoo))
    layers[-1].coverage, layers[-1].coverage_label = conus, "contiguous US"

    stranded, _ = read_layer(data / "stranded_energy_regions.geojson", kind="stranded")
    layers.append(_layer("stranded", "stranded", "Stranded-energy regions", stranded,
                         "EIA, US Census, Natural Earth (public domain); derived, see maps/README.md"))

    basins, _ = read_layer(data / "eia_lower48_shale_basins.geojson", kind="basins")
    layers.append(_layer("basins", "basins", "Shale plays, Lower 48 (EIA)", basins, "US EIA (public domain)"))

    flares, _ = read_layer(data / "eog_vnf_global_flares_2015.geojson", kind="flares")
    us = flares[flares["cntry_iso"] == "USA"]
    rest = flares[flares["cntry_iso"] != "USA"].nlargest(FLARES_OUTSIDE_US, "flr_volume_bcm")
    kept = pd.concat([us, rest]).drop(columns=["catalog_id"])
    layers.append(_layer("flares", "flares", "Gas flares 2015 (VIIRS Nightfire)", gpd.GeoDataFrame(kept, crs=flares.crs),
                         "Earth Observation Group, Payne Institute / Colorado School of Mines (VNF 2015)"))

    countries, _ = read_layer(data / "ne_110m_admin_0_countries.geojson", kind="countries")
    layers.append(_layer("countries", "countries", "Countries (Natural Earth 1:110m)", countries,
                         "Natural Earth v5.1.1 (public domain)"))
    states, _ = read_layer(data / "us_states_census2016_simplified.geojson", kind="states")
    layers.append(_layer("states", "states", "US states (Census 2016)", states, "US Census Bureau (public domain)"))
    return layers


def build(data: Path, out: Path) -> Path:
    """Build the sample project from ``data`` into ``out``; returns the saved path."""
    portfolio = Portfolio(build_sites(data), name="Sample portfolio: public mining sites")
    project = Project(path=out, portfolio=portfolio)
    for layer in build_layers(data):
        project.add_layer(layer)
    apply_proximity(project)  # computed fields ship with the sample; the app recomputes on edits
    saved = save_project(project, out)
    attribution = REPO / "DATA_ATTRIBUTION.md"
    if attribution.exists():
        (REPO / "resources").mkdir(exist_ok=True)
        shutil.copyfile(attribution, REPO / "resources" / "DATA_ATTRIBUTION.md")
    return saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "maps" / "sample_portfolio.gpkg")
    args = ap.parse_args(argv)
    if not (args.data / "mining_sites_public.csv").exists():
        print(f"build_sample: error: {args.data} does not hold mining_sites_public.csv; pass --data DIR",
              file=sys.stderr)
        return 1
    saved = build(args.data, args.out)
    print(f"wrote {saved} ({saved.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
