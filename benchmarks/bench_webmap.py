"""Time planner.webmap.build_map, and the map's frame times and edit updates in QtWebEngine.

Run: ``python benchmarks/bench_webmap.py [--frames]``. Without ``--frames``: ``build_map`` on a
synthetic 100,000-segment grid and on the sample (seconds, HTML size; no Qt needed).

``--frames`` (needs QtWebEngine; offscreen unless QT_QPA_PLATFORM says otherwise): the sample
(22,000 grid lines, 18,000 nodes) in the app's :class:`planner.ui.map_view.MapView`, then

- *frame times*: a scripted pan/zoom (40 steps: pans across Texas at zoom 6, zoom 5 -> 9 -> 5)
  driven from ``requestAnimationFrame`` inside the page; each step's frame time is the delta
  between consecutive animation frames (median, 95th percentile, max). The first run draws
  every vector tile (the headline figure); the script is then run again with the tiles in the
  page's tile cache. Floor in the same run: the same script on a page with the same sites but
  no grid layers;
- *edit -> map*: ``MapView.refresh`` after a site edit (what the window does on a score
  change): milliseconds until the page has applied the update (a JavaScript round trip after
  ``plannerMap.updateSites``), against a bare ``runJavaScript`` round trip in the same run.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import shapely

from planner.model.portfolio import Portfolio
from planner.webmap import MapOptions, build_map


def synthetic_grid(n_chains: int = 1000, segments_per_chain: int = 100, seed: int = 7) -> gpd.GeoDataFrame:
    """``n_chains * segments_per_chain`` two-vertex segments forming random-walk lines over CONUS."""
    rng = np.random.default_rng(seed)
    starts = np.c_[rng.uniform(-120, -75, n_chains), rng.uniform(28, 48, n_chains)]
    walk = starts[:, None, :] + np.cumsum(rng.normal(0, 0.02, (n_chains, segments_per_chain, 2)), axis=1)
    chains = np.concatenate([starts[:, None, :], walk], axis=1)
    a, b = chains[:, :-1].reshape(-1, 2), chains[:, 1:].reshape(-1, 2)
    kv = np.repeat(rng.choice([138.0, 230.0, 345.0, 500.0], n_chains), segments_per_chain)
    return gpd.GeoDataFrame({"voltage_kv": kv}, geometry=shapely.linestrings(np.stack([a, b], axis=1)), crs=4326)


def _time(label: str, project: object, options: MapOptions = MapOptions(), repeat: int = 3) -> None:
    best, size = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        html = build_map(project, options=options)
        best = min(best, time.perf_counter() - t0)
        size = len(html.encode("utf-8"))
    print(f"{label:<45} {best:7.2f} s  {size / 1e6:6.2f} MB")


FRAME_SCRIPT = """
(function () {
  var m = plannerMap.map, steps = [], i = 0, last = null, out = [];
  for (var k = 0; k < 20; k++) { steps.push([31.0, -104 + k * 0.5, 6]); }
  [5, 6, 7, 8, 9, 8, 7, 6, 5, 5, 6, 7, 8, 9, 8, 7, 6, 5, 6, 6].forEach(function (z) { steps.push([31.5, -99.0, z]); });
  window.__frames = null;
  function tick(t) {
    if (last !== null) { out.push(t - last); }
    last = t;
    if (i < steps.length) { var s = steps[i++]; m.setView([s[0], s[1]], s[2], {animate: false}); }
    if (out.length < steps.length) { requestAnimationFrame(tick); } else { window.__frames = out; }
  }
  requestAnimationFrame(tick);
  return true;
})()
"""


def _wait_js(view, code: str, timeout_s: float = 120.0):
    from PySide6.QtCore import QEventLoop, QTimer
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        r = view.eval_js(code)
        if r not in (None, "", False):
            return r
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    raise TimeoutError(code)


def _frames(view) -> list[float]:
    import json
    view.eval_js(FRAME_SCRIPT)
    return json.loads(_wait_js(view, "window.__frames ? JSON.stringify(window.__frames) : ''"))


def _stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    return f"median {np.median(a):6.1f} ms, p95 {np.percentile(a, 95):6.1f} ms, max {a.max():6.1f} ms ({len(a)} frames)"


def frames() -> None:
    """Frame times during a scripted pan/zoom and the edit -> map latency (see the module docstring)."""
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.model.readiness import score_portfolio
    from planner.reports.render_qt import ensure_app
    ensure_app()
    from planner.ui.map_view import MapView

    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs), "
          f"platform {os.environ['QT_QPA_PLATFORM']}")
    project = open_project(sample_project())
    scores = dict(score_portfolio(project.portfolio))
    bare = SimpleNamespace(portfolio=project.portfolio, layers={})
    rows = {}
    for label, proj in (("floor: sites only, no grid layers", bare), ("sample with the national grid layers", project)):
        view = MapView()
        view.resize(1280, 800)
        view.show()
        t0 = time.perf_counter()
        view.set_project(proj, scores)
        if not view.wait_ready(120_000):
            raise TimeoutError("map page not ready")
        ready_s = time.perf_counter() - t0
        counts = view.eval_js("plannerMap.countFeatures()")
        rows[label] = _frames(view)
        print(f"{label:<40} {_stats(rows[label])}  (page built and ready in {ready_s:.2f} s)  {counts}")
        # the same script again: the vector tiles of these views are in the page's tile cache
        print(f"{'  again (tiles cached)':<40} {_stats(_frames(view))}")
        if view.eval_js("typeof plannerMap.tilesDrawn") == "function":
            print(f"{'  vector tiles drawn (count, JS ms)':<40} {view.eval_js('plannerMap.tilesDrawn()')}")
        if proj is project:
            site = next(s for s in project.portfolio if s.lat is not None)
            rt, up = [], []
            for k in range(10):
                t = time.perf_counter()
                view.eval_js("1")
                rt.append((time.perf_counter() - t) * 1000)
                project.portfolio.replace_sites([s.replace(name=f"{site.name} ({k})") if s.site_id == site.site_id
                                                 else s for s in project.portfolio])  # an edit
                t = time.perf_counter()
                view.refresh(dict(score_portfolio(project.portfolio)))
                view.eval_js("1")  # queued after the update: returns once the page applied it
                up.append((time.perf_counter() - t) * 1000)
            print(f"{'edit -> map (refresh + round trip)':<40} median {np.median(up):6.1f} ms, max {max(up):6.1f} ms")
            print(f"{'floor: runJavaScript round trip':<40} median {np.median(rt):6.1f} ms, max {max(rt):6.1f} ms")
            print(f"js errors: {view.js_errors}")
        view.release()
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def main() -> None:
    import sys
    if "--frames" in sys.argv[1:]:
        frames()
        return
    grid = synthetic_grid()
    layer = SimpleNamespace(name="grid", kind="transmission", title="Synthetic grid", gdf=grid, source="synthetic",
                            style={})
    project = SimpleNamespace(portfolio=Portfolio([]), layers={"grid": layer})
    _time("100,000 segments, default budget", project)
    _time("100,000 segments, 60,000-vertex budget", project, MapOptions(max_vertices_per_layer=60_000))
    try:
        from planner.assets import sample_project
        from planner.gis.project import open_project
        _time("sample_portfolio.gpkg", open_project(sample_project()))
    except Exception as e:  # noqa: BLE001 - the sample is optional for this benchmark
        print(f"sample project skipped: {e}")


if __name__ == "__main__":
    main()
