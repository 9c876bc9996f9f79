"""Site discovery / screening (planner.gis.screening, planner screen, the Tools dialog)."""
from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from planner.assets import sample_project
from planner.cli import main as cli_main
from planner.gis.project import open_project
from planner.gis.proximity import compute_proximity, project_coverage, project_layers
from planner.gis.screening import (
    ScreeningError, _power_pts, _scores_v, candidate_site, default_min_spacing_km, resolve_region, score_fields,
    screen, screening_weights,
)
from planner.model.fields import COMPUTED_FIELDS

PERMIAN_BOX = (-103.5, 31.0, -101.5, 32.5)  # Midland/Odessa: lines, flares, fibre and the Permian region
GEOD = Geod(ellps="WGS84")


def _km(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0


def _min_pair_km(cands) -> float:
    pts = [(c.lon, c.lat) for c in cands]
    return min(_km(a, b) for i, a in enumerate(pts) for b in pts[i + 1:])


def _greedy_spaced(cells: pd.DataFrame, top: int, spacing_km: float) -> list[tuple[str, float]]:
    """Reference greedy spacing over exactly scored cells: best first, keep if >= spacing from all kept."""
    ranked = cells[cells["score_exact"]].sort_values(["score", "cell_id"], ascending=[False, True])
    kept: list[tuple[str, float, float, float]] = []
    for cid, score, lon, lat in zip(ranked["cell_id"], ranked["score"], ranked["lon"], ranked["lat"]):
        if all(_km((lon, lat), (k[2], k[3])) >= spacing_km for k in kept):
            kept.append((cid, score, lon, lat))
            if len(kept) == top:
                break
    return [(k[0], k[1]) for k in kept]


@pytest.fixture(scope="module")
def project():
    return open_project(sample_project())


@pytest.fixture(scope="module")
def tx20(project):
    return screen(project, "TX", 20, top=10, weights={"stranded_energy": 0}, min_spacing_km=0)


@pytest.fixture(scope="module")
def tx20_spaced(project):
    return screen(project, "TX", 20, top=10, weights={"stranded_energy": 0})


def test_texas_top_candidates_sit_next_to_345kv_lines(project, tx20):
    assert tx20.region.code == "TX" and tx20.grid_crs == "EPSG:5070"
    assert 1500 < tx20.n_cells < 2000  # Texas ~ 696,000 km2 / 400 km2
    assert len(tx20.top) == 10 and tx20.bounds_violations == 0
    scores = [c.score for c in tx20.top]
    assert scores == sorted(scores, reverse=True)
    for c in tx20.top:
        assert c.fields["dist_line_345kv_km"] is not None and c.fields["dist_line_345kv_km"] <= 5.0, c.reason
        assert "kV line" in c.reason and " km" in c.reason and "\n" not in c.reason
    # the reported fields are exactly what compute_proximity gives a site at the cell centre
    best = tx20.top[0]
    pts = gpd.GeoDataFrame({"site_id": [best.cell_id]}, geometry=[shapely.Point(best.lon, best.lat)], crs=4326)
    exact = compute_proximity(pts, project_layers(project), coverage=project_coverage(project)).iloc[0]
    for k in COMPUTED_FIELDS:
        assert exact[k] == best.fields[k] or (exact[k] is None and best.fields[k] is None)


def test_high_stranded_weight_moves_candidates_into_flaring_basins(project, tx20):
    # 2015 VIIRS flares: the Eagle Ford flared more than the Permian near grid and fibre, so the
    # top cells land in those two basins / the West Texas proxy (all stranded-energy regions)
    res = screen(project, "TX", 20, top=10, weights={"stranded_energy": 100}, min_spacing_km=0)
    basins = ("Permian", "West Texas", "Eagle Ford")
    for c in res.top:
        assert any(b in (c.fields["stranded_region"] or "") for b in basins), c.reason
        # inside a region (100) and > 0.2 bcm/yr = > 86 MW of gas (log power scale > 51.6): mean > 75.8
        assert c.fields["flare_volume_bcm"] > 0.2 and c.sub_scores["stranded_energy"] > 75.8, c.reason
        assert "flares" in c.reason and "inside" in c.reason
    inside_before = sum(bool(c.fields["stranded_region"]) for c in tx20.top)
    assert inside_before < 10


def test_exclusions_remove_cells_with_reason(project, tx20):
    best = tx20.top[0]
    box = gpd.GeoDataFrame({"name": ["reserve"]},
                           geometry=[shapely.Point(best.lon, best.lat).buffer(0.3)], crs=4326)
    res = screen(project, "TX", 20, top=10, weights={"stranded_energy": 0},
                 exclusions=[("Nature reserve", box), "basins"])
    cells = res.cells.set_index("cell_id")
    assert cells.loc[best.cell_id, "excluded"]
    assert cells.loc[best.cell_id, "excluded_reason"] == "excluded: touches Nature reserve (reserve)"
    assert res.n_excluded > 100  # the shale basins cover much of Texas
    assert cells.loc[cells["excluded"], "score"].isna().all()
    basin = cells["excluded_reason"].fillna("").str.startswith("excluded: touches Shale plays, Lower 48 (EIA) (")
    assert basin.any()
    ids = {c.cell_id for c in res.top}
    assert len(res.top) == 10 and not ids & set(cells.index[cells["excluded"]])
    with pytest.raises(ScreeningError, match="not a polygon layer"):
        screen(project, "TX", 50, exclusions=["transmission"])
    with pytest.raises(ScreeningError, match="not in the project"):
        screen(project, "TX", 50, exclusions=["no_such_layer"])


def test_shortlist_gives_the_exact_top_n(project, monkeypatch):
    # refining every cell gives the exact table; the references are greedy spacing over it
    full = screen(project, PERMIAN_BOX, 8, top=15, exact_all=True, min_spacing_km=40)
    assert full.n_refined == full.n_cells and full.bounds_violations == 0
    reference = _greedy_spaced(full.cells, 15, 40.0)
    assert [(c.cell_id, c.score) for c in full.top] == reference
    # no spacing: the plain 15 best exact scores, neighbouring cells allowed, from a small shortlist
    fast = screen(project, PERMIAN_BOX, 8, top=15, min_spacing_km=0)
    assert [(c.cell_id, c.score) for c in fast.top] == _greedy_spaced(full.cells, 15, 0.0)
    assert fast.n_refined < 40 and _min_pair_km(fast.top) < 9.0
    # with spacing the shortlist grows in rounds (small ones here: 2 x top = 30 cells, so many cells
    # are suppressed on their bounds alone) and still gives what refining every cell gives
    monkeypatch.setattr("planner.gis.screening._REFINE_BATCH", 1)
    spaced = screen(project, PERMIAN_BOX, 8, top=15, min_spacing_km=40)
    assert [(c.cell_id, c.score) for c in spaced.top] == reference
    assert fast.n_refined + 30 < spaced.n_refined < full.n_cells / 2 and spaced.bounds_violations == 0
    # a spacing so wide that fewer places exist: all of them, and a note saying so
    wide = screen(project, PERMIAN_BOX, 8, top=15, min_spacing_km=120)
    assert [(c.cell_id, c.score) for c in wide.top] == _greedy_spaced(full.cells, 15, 120.0)
    assert 1 < len(wide.top) < 15 and any("at least 120 km apart" in n for n in wide.notes)
    # every exact score lies inside its pre-screen bounds
    cells = full.cells[full.cells["score_exact"]]
    assert ((cells["score"] >= cells["score_min"] - 0.01) & (cells["score"] <= cells["score_max"] + 0.01)).all()


def test_spaced_candidates_are_distinct_places(project, tx20, tx20_spaced):
    assert tx20_spaced.min_spacing_km == default_min_spacing_km(20) == 100.0 and tx20.min_spacing_km == 0.0
    assert default_min_spacing_km(1) == 10.0
    top = tx20_spaced.top
    assert len(top) == 10 and [c.rank for c in top] == list(range(1, 11))
    assert [c.score for c in top] == sorted((c.score for c in top), reverse=True)
    pts = [(c.lon, c.lat) for c in top]
    for i, a in enumerate(pts):
        for b in pts[i + 1:]:
            assert _km(a, b) >= 100.0
    assert _min_pair_km(tx20.top) < 100.0  # unspaced: neighbouring cells of the same places
    assert top[0].cell_id == tx20.top[0].cell_id  # the best cell stays first
    # greedy: every exactly scored cell better than a candidate it is not lies < 100 km from a better candidate
    cells = tx20_spaced.cells[tx20_spaced.cells["score_exact"]]
    chosen = {c.cell_id for c in top}
    for cid, score, lon, lat in zip(cells["cell_id"], cells["score"], cells["lon"], cells["lat"]):
        if cid not in chosen and score > top[-1].score:
            assert any(c.score >= score and _km((lon, lat), (c.lon, c.lat)) < 100.0 for c in top), cid
    with pytest.raises(ScreeningError, match="min_spacing_km = -1: use 0"):
        screen(project, "TX", 20, min_spacing_km=-1)
    with pytest.raises(ScreeningError, match="min_spacing_km"):
        screen(project, "TX", 20, min_spacing_km=float("nan"))


def test_vectorised_bounds_mirror_the_readiness_rules():
    rng = np.random.default_rng(7)
    weights = screening_weights(None, {"stranded_energy": 5})
    n = 400

    def column(scale: float) -> np.ndarray:
        v = rng.exponential(scale, n)
        v[rng.random(n) < 0.2] = np.nan
        return v

    d = {m: column(s) for m, s in (("line_69", 20), ("line_138", 20), ("line_230", 30), ("line_345", 40),
                                   ("line_500", 200), ("substation", 20), ("fibre", 30), ("pop", 100),
                                   ("stranded", 60))}
    vol = np.where(rng.random(n) < 0.3, 0.0, rng.exponential(0.2, n))
    mw_per_bcm = 1e9 * 38.6 * 0.35 / (365 * 24 * 3600)
    vec = _scores_v(d, vol * mw_per_bcm, weights, _power_pts(None))
    for i in range(n):
        fields = {f"dist_line_{m.split('_')[1]}kv_km": (None if math.isnan(d[m][i]) else float(d[m][i]))
                  for m in d if m.startswith("line_")}
        fields.update({"dist_substation_km": d["substation"][i], "dist_fibre_km": d["fibre"][i],
                       "dist_pop_km": d["pop"][i], "dist_stranded_km": d["stranded"][i],
                       "flare_volume_bcm": vol[i], "flare_count": 1})
        fields = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in fields.items()}
        total, _, _ = score_fields(fields, weights)
        assert (total is None) == bool(np.isnan(vec[i]))
        if total is not None:
            assert abs(total - vec[i]) < 0.02, (i, fields)


def test_local_and_dask_engines_give_identical_results(project):
    from distributed import Client, LocalCluster

    local = screen(project, PERMIAN_BOX, 15, top=10, partitions=3)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dist = screen(project, PERMIAN_BOX, 15, top=10, engine="dask", scheduler=client, partitions=3)
    assert dist.engine == "dask"
    assert [(c.cell_id, c.score, c.reason) for c in local.top] == [(c.cell_id, c.score, c.reason) for c in dist.top]
    pd.testing.assert_frame_equal(pd.DataFrame(local.cells.drop(columns="geometry")),
                                  pd.DataFrame(dist.cells.drop(columns="geometry")))
    assert local.cells.geometry.geom_equals_exact(dist.cells.geometry, 1e-12).all()


def test_regions_and_inputs_are_checked(project):
    assert resolve_region(project, "texas").code == "TX"
    assert resolve_region(project, "-100,30,-99,31").code == "BBOX"
    with pytest.raises(ScreeningError, match=r"unknown; use one of .*TX.*CONUS"):
        resolve_region(project, "ZZ")
    with pytest.raises(ScreeningError, match="bbox"):
        resolve_region(project, (10, 5, 0, 1))
    with pytest.raises(ScreeningError, match="no states layer"):
        resolve_region(SimpleNamespace(layers={}), "TX")
    with pytest.raises(ScreeningError, match="cell size between"):
        screen(project, "TX", 0.1)
    with pytest.raises(ScreeningError, match="engine"):
        screen(project, "TX", 20, engine="spark")
    with pytest.raises(ScreeningError, match="unknown criterion"):
        screen(project, "TX", 20, weights={"water": 3})


def test_candidate_becomes_a_site_with_its_computed_fields(tx20):
    c = tx20.top[0]
    site = candidate_site(c, "CAND-TX-001")
    assert site.site_id == "CAND-TX-001" and site.status == "pipeline" and site.admin1 == "TX"
    assert (site.lon, site.lat) == (c.lon, c.lat)
    assert site.dist_line_345kv_km == c.fields["dist_line_345kv_km"]
    assert c.reason in site.notes


def test_cli_screen_writes_candidates_and_exits_cleanly(tmp_path, capsys):
    path = str(sample_project())
    out = tmp_path / "cands.csv"
    assert cli_main(["screen", path, "--region", "TX", "--cell-km", "40", "--top", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Texas:" in text and "  1. " in text and "kV line" in text and "candidates >= 200 km apart" in text
    frame = pd.read_csv(out)
    assert list(frame["rank"]) == [1, 2, 3, 4, 5] and {"lon", "lat", "reason", "dist_line_345kv_km"} <= set(frame)
    gpkg = tmp_path / "cands.gpkg"
    assert cli_main(["screen", path, "--region", "TX", "--cell-km", "40", "--top", "3", "--out", str(gpkg),
                     "--min-spacing-km", "0"]) == 0
    assert "not spaced" in capsys.readouterr().out
    near = [(p.x, p.y) for p in gpd.read_file(gpkg, layer="candidates").geometry]
    assert len(near) == 3 and min(_km(a, b) for i, a in enumerate(near) for b in near[i + 1:]) < 300.0
    far = tmp_path / "far.csv"
    assert cli_main(["screen", path, "--region", "TX", "--cell-km", "40", "--top", "5", "--min-spacing-km", "300",
                     "--out", str(far)]) == 0
    assert "candidates >= 300 km apart" in capsys.readouterr().out
    f = pd.read_csv(far)
    pts = list(zip(f["lon"], f["lat"]))
    assert len(pts) == 5 and min(_km(a, b) for i, a in enumerate(pts) for b in pts[i + 1:]) >= 300.0

    assert cli_main(["screen", path, "--region", "ZZ", "--cell-km", "40"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("planner screen: error: region 'ZZ': unknown; use one of") and "TX" in err
    assert len(err.splitlines()) == 1
    for argv, needle in ((["--region", "TX", "--cell-km", "0"], "cell size"),
                         (["--region", "TX", "--weight", "stranded_energy"], "CRITERION=NUMBER"),
                         (["--region", "TX", "--out", "x.shp"], ".gpkg or .csv"),
                         (["--region", "TX", "--min-spacing-km", "-5"], "min_spacing_km = -5.0: use 0")):
        assert cli_main(["screen", path, *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1
    assert cli_main(["screen", str(tmp_path / "missing.gpkg"), "--region", "TX"]) == 1
    assert "no such project file" in capsys.readouterr().err


@pytest.mark.gui
def test_dialog_adds_candidates_as_sites_and_a_layer(qtbot):
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QMainWindow

    from planner.ui.screening_dialog import ScreeningDialog, install_screening_action

    proj = open_project(sample_project())
    stack = QUndoStack()
    calls = []

    def run_task(label, fn, *args, on_done, on_error=None, **kwargs):  # the real one: worker thread, signal
        calls.append(label)
        on_done(fn(*args, progress=lambda f: None, **kwargs))

    window = SimpleNamespace(project=proj, undo_stack=stack, run_task=run_task)
    dialog = ScreeningDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.region_combo.currentText() == "TX"
    assert dialog.spacing_spin.value() == default_min_spacing_km(dialog.cell_spin.value())
    dialog.cell_spin.setValue(50)
    assert dialog.spacing_spin.value() == 250.0  # follows the cell size until the analyst edits it
    dialog.spacing_spin.setValue(300)
    dialog.cell_spin.setValue(40)
    dialog.cell_spin.setValue(50)
    assert dialog.spacing_spin.value() == 300.0
    dialog.top_spin.setValue(5)
    dialog.run_screening()
    result = dialog.result
    assert result is not None and calls == ["Screening TX at 50 km"]
    assert result.min_spacing_km == 300.0 and _min_pair_km(result.top) >= 300.0
    assert "at least 300 km apart" in dialog.summary_label.text()
    assert dialog.candidate_list.count() == 5 and dialog.add_site_button.isEnabled()
    n = len(proj.portfolio)
    dialog._on_add_site_clicked()
    assert "CAND-TX-001" in proj.portfolio and len(proj.portfolio) == n + 1
    assert proj.portfolio.get("CAND-TX-001").dist_fibre_km == result.top[0].fields["dist_fibre_km"]
    name = dialog.add_candidates_layer()
    assert name == "screening_tx" and proj.layers[name].kind == "other" and len(proj.layers[name].gdf) == 5
    stack.undo()
    stack.undo()
    assert "screening_tx" not in proj.layers and "CAND-TX-001" not in proj.portfolio

    main = QMainWindow()
    qtbot.addWidget(main)
    action = install_screening_action(main)
    assert action.text() == "&Screen region…" and main.tools_menu.actions() == [action]


@pytest.fixture(scope="module")
def dialog_layers(qapp):
    """A dialog that screened Texas at 50 km and added its heat and candidate layers (one undo step)."""
    from PySide6.QtGui import QUndoStack

    from planner.ui.screening_dialog import ScreeningDialog

    proj = open_project(sample_project())
    stack = QUndoStack()
    notified = []
    window = SimpleNamespace(project=proj, undo_stack=stack,
                             session=SimpleNamespace(notify_layers_changed=notified.append),
                             run_task=lambda label, fn, *a, on_done, on_error=None, **kw:
                             on_done(fn(*a, progress=lambda f: None, **kw)))
    dialog = ScreeningDialog(window)
    dialog.cell_spin.setValue(50)
    dialog.top_spin.setValue(5)
    dialog.run_screening()
    result = dialog.result
    n_before = len(proj.layers)
    dialog._on_add_layer_clicked()
    yield SimpleNamespace(dialog=dialog, proj=proj, stack=stack, result=result, notified=notified,
                          n_before=n_before)
    # delete the dialog now, while the undo stack it is connected to still exists: a deferred
    # delete left for a later test's event loop crashed that test
    from PySide6.QtCore import QCoreApplication, QEvent

    dialog.close()
    dialog.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    stack.clear()


@pytest.mark.gui
def test_dialog_adds_heat_and_candidate_layers_as_one_undo_step(dialog_layers):
    from planner.webmap import build_map
    from planner.webmap.styles import ramp_colours

    d = dialog_layers
    proj, result = d.proj, d.result
    names = list(proj.layers)
    assert names[-2:] == ["screening_tx_score", "screening_tx"] and len(names) == d.n_before + 2
    heat, cands = proj.layers["screening_tx_score"], proj.layers["screening_tx"]
    scored = result.cells[~result.cells["excluded"] & result.cells["score"].notna()]
    assert heat.kind == cands.kind == "other" and heat.title == "Screening Texas 50 km (score)"
    assert len(heat.gdf) == len(scored) > 200 and heat.gdf["score"].notna().all()
    assert heat.gdf["score"].max() == pytest.approx(result.top[0].score)  # exact scores replace the estimates
    assert heat.style["color_by"] == "score" and heat.style["cell_km"] == 50.0 and len(cands.gdf) == 5
    assert d.notified == ["screening_tx_score", "screening_tx"]  # the window coalesces its map rebuild
    assert "Edit &gt; Undo" not in d.dialog.summary_label.text() and "Undo removes both" in d.dialog.summary_label.text()

    cands.title = "Top <script>alert(1)</script>"  # a hostile title stays text
    html = build_map(proj)
    cands.title = "Screening Texas 50 km (top 5 candidates)"
    data = json.loads(re.search(r'id="planner-data">(.*?)</script>', html, re.DOTALL).group(1))
    legend = data["legend_html"]
    assert "<script>alert(1)" not in html and "Top &lt;script&gt;alert(1)&lt;/script&gt;</div>" in legend
    assert "Top &lt;script&gt;" in next(lay["title_html"] for lay in data["layers"] if lay["name"] == "screening_tx")
    assert "<h2>Screening Texas 50 km (score)</h2>" in legend and "score, quantile classes" in legend
    q = np.quantile(scored["score"].to_numpy(dtype=float), np.linspace(0, 1, 7))
    for k, colour in enumerate(ramp_colours("viridis", 6)):  # 6 quantile classes, low to high
        row = re.search(f'background:{colour}"></span>([0-9.,]+)\u2013([0-9.,]+) of 100 \\(([0-9,]+)\\)', legend)
        assert row, (k, colour)
        lo, hi, n = float(row[1].replace(",", "")), float(row[2].replace(",", "")), int(row[3].replace(",", ""))
        assert lo == pytest.approx(q[k], abs=0.06) and hi == pytest.approx(q[k + 1], abs=0.06)
        assert abs(n - len(scored) / 6) <= len(scored) / 12

    d.stack.undo()
    assert "screening_tx_score" not in proj.layers and "screening_tx" not in proj.layers
    assert len(proj.layers) == d.n_before and d.stack.count() == 1
    d.stack.redo()
    assert list(proj.layers)[-2:] == ["screening_tx_score", "screening_tx"]


@pytest.mark.gui
def test_heat_layer_is_drawn_in_the_map_view(qtbot, dialog_layers):
    from test_map_view import TIMEOUT_MS, _close, _open  # Qt map helpers

    proj = dialog_layers.proj
    assert "screening_tx_score" in proj.layers
    n_cells = len(proj.layers["screening_tx_score"].gdf)
    view = _open(proj)
    try:
        counts = json.loads(view.eval_js("plannerMap.countFeatures()"))
        assert counts["graduated"] == n_cells
        assert counts["other"] >= n_cells + 5
        view.run_js("plannerMap.setView(31.0, -99.5, 6)")
        qtbot.waitUntil(lambda: view.eval_js("plannerMap.cellsDrawn('screening_tx_score')") > 0.9 * n_cells,
                        timeout=TIMEOUT_MS)
        view.run_js("plannerMap.setView(45.0, -70.0, 7)")  # Maine: no Texas cell in view
        qtbot.waitUntil(lambda: view.eval_js("plannerMap.cellsDrawn('screening_tx_score')") == 0,
                        timeout=TIMEOUT_MS)
        view.run_js("plannerMap.setLayerVisible('other', false)")
        assert view.eval_js("plannerMap.cellsDrawn('screening_tx_score')") == 0
        assert view.js_errors == [] and view.interceptor.blocked == []
    finally:
        _close(view)
