"""The economics headline agrees with itself: one best figure, the market-multiple view only as a labelled
secondary line, and unknown energized MW never shown as $0."""
from __future__ import annotations

import numpy as np
import pytest

from planner.model import economics as e
from planner.model.assumptions import default_assumptions
from planner.model.site import Site
from planner.reports.content import economics_table


def _site(**kw):
    base = dict(site_id="T1", name="Test", power_capacity_mw=100.0, energized_mw=100.0, power_price_usd_per_mwh=40.0,
                admin1="TX", country="US")
    base.update(kw)
    return Site.create(**base)


def _best_npv(c) -> float:
    return max(p.npv_usd for p in c.all_paths.values())


@pytest.mark.parametrize("price", [25.0, 45.0, 80.0])
def test_no_figure_on_the_page_beats_the_best_path(price):
    a = default_assumptions()
    c = e.site_paths(_site(power_price_usd_per_mwh=price), a)
    assert c.bridge_npv_usd[0] == pytest.approx(c.ai_lease.npv_usd, rel=1e-12)  # year 0 = converting now
    assert float(np.max(c.bridge_npv_usd)) <= _best_npv(c) + 1e-6
    t = economics_table(c, a)
    bridge = next(f for f in t.facts if f.label.startswith("Best year"))
    assert "AI lease path" in bridge.note or "bridge column" in bridge.note or "mining path" in bridge.note


def test_market_multiple_view_is_secondary_and_absent_without_energized_mw():
    a = default_assumptions()
    c = e.site_paths(_site(), a)
    t = economics_table(c, a)
    assert not [f for f in t.facts if "uplift" in (f.label + f.value).lower()]   # not a headline figure
    (v,) = t.secondary
    assert "secondary" in v.label and "not an NPV" in v.label and v.value.endswith("uplift")
    unknown = e.site_paths(_site(energized_mw=None), a)
    (u,) = economics_table(unknown, a).secondary
    assert u.value == "n/a" and "enter" in u.note


def test_unknown_energized_mw_is_never_zero():
    from planner.model.chart_data import TornadoData

    a = default_assumptions()
    c = e.site_paths(_site(energized_mw=None), a)
    for name in ("mining", "sell"):
        p = getattr(c, name)
        assert p.unavailable_reason.startswith(e.NEEDS_ENERGIZED) and "with all 100 MW energized" in p.unavailable_reason
        assert name not in c.all_paths and c.to_dict()["paths"][name]["npv_usd"] is None
    assert c.best_path in ("ai_lease", "hybrid")
    t = economics_table(c, a)
    npv_row = next(v for label, v in t.rows if label.startswith("NPV over"))
    assert npv_row[0] == npv_row[3] == e.NEEDS_ENERGIZED and "$0" not in " ".join(npv_row)
    empty = TornadoData("mining", [], 0.0, empty_reason=f"Mining: {c.mining.unavailable_reason}")
    assert "enter energized MW" in empty.empty_reason


def test_csv_export_leaves_unknown_energized_values_empty(tmp_path):
    from planner.gis.project import Project
    from planner.model.portfolio import Portfolio
    from planner.reports.export import sites_table

    frame = sites_table(Project(path=tmp_path / "p.gpkg",
                                portfolio=Portfolio([_site(energized_mw=None), _site(site_id="T2")], {}, "t")))
    row = frame.set_index("site_id").loc["T1"]
    assert row.isna()["npv_mining_usd"] and row.isna()["npv_sell_usd"]
    assert "enter energized MW" in row["economics_note"]
    assert frame.set_index("site_id").loc["T2", "npv_sell_usd"] > 0
