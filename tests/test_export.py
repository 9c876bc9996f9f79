"""Data export of sites with computed fields and scores: CSV, GeoJSON, GeoPackage round trips."""
from __future__ import annotations

import math

import pandas as pd
import pyogrio
import pytest

from _report_fixtures import XSS, XSS_ID, small_project
from planner.model.readiness import score_site
from planner.reports.content import ReportError
from planner.reports.export import GPKG_LAYER, check_format, export_sites, sites_table


@pytest.fixture(scope="module")
def project():
    return small_project()


@pytest.fixture(scope="module")
def table(project):
    return sites_table(project)


def test_table_has_fields_scores_and_economics(table, project):
    assert list(table["site_id"]) == project.portfolio.ids()
    row = table.set_index("site_id").loc[XSS_ID]
    r = score_site(project.portfolio.get(XSS_ID), project.portfolio.settings)
    assert row["readiness_total"] == pytest.approx(r.total, abs=0.01)
    assert (row["readiness_total_low"], row["readiness_total_high"]) == pytest.approx((r.total_low, r.total_high), abs=0.01)
    assert row["readiness_class"] == r.klass and row["upgrade_capex_usd"] == pytest.approx(r.capex_total_usd)
    assert row["score_power_scale"] == pytest.approx(r.criterion("power_scale").score)
    assert row["dist_substation_km"] > 0 and row["substation_voltage_kv"] == 345
    assert row["best_path"] in ("mining", "ai_lease", "hybrid", "sell") and math.isfinite(row["npv_ai_lease_usd"])
    assert row["npv_ai_lease_excl_terminal_usd"] < row["npv_ai_lease_usd"] and math.isfinite(row["npv_sell_usd"])
    assert table.crs.to_epsg() == 4326


def test_unknown_stays_unknown(table, project):
    eth = table.set_index("site_id").loc["FUFU-ETH"]
    site = project.portfolio.get("FUFU-ETH")
    assert site.lon is None and eth.geometry is None
    assert site.water_source is None and pd.isna(eth["water_source"])
    assert pd.isna(eth["dist_substation_km"])  # no location: no distance, not 0 km


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_round_trip(project, tmp_path, fmt):
    out = export_sites(project, tmp_path / f"sites.{fmt}", economics=False)
    assert out.is_file() and not list(tmp_path.glob(".*part*"))
    if fmt == "csv":
        back = pd.read_csv(out)
    else:
        back = pyogrio.read_dataframe(out, layer=GPKG_LAYER if fmt == "gpkg" else None)
        assert back.crs.to_epsg() == 4326
        assert back.geometry.isna().sum() == 1  # the site without a location
    assert len(back) == 3 and set(back["site_id"]) == set(project.portfolio.ids())
    by_id = back.set_index("site_id")
    assert by_id.loc[XSS_ID, "name"] == XSS  # data is data: exported verbatim
    assert by_id.loc[XSS_ID, "readiness_total"] > 0
    assert pd.isna(by_id.loc["FUFU-ETH", "dist_fibre_km"])
    assert "npv_ai_lease_usd" not in back.columns


def test_format_from_suffix_and_errors(project, tmp_path):
    assert check_format(None, "a.GeoJSON") == "geojson" and check_format(None, "a.json") == "geojson"
    assert check_format("GPKG", "anything") == "gpkg"
    with pytest.raises(ReportError, match="cannot tell the export format"):
        check_format(None, "sites.xlsx")
    with pytest.raises(ReportError, match="not supported"):
        check_format("shp", "sites.shp")
    with pytest.raises(ReportError, match="folder does not exist"):
        export_sites(project, tmp_path / "missing" / "sites.csv")
