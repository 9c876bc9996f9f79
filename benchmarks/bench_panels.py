"""Per-change update time of the chart panels on the bundled sample (not a test; prints a table).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_panels.py [--repeat 5]

For each kind of change (select another site, edit energized_mw through an undo command, change an
assumption, change a readiness weight, undo) it times the redraw of every panel, as the main
window does it: signal -> panel marked dirty -> redraw. Each change hits new (site, assumptions)
cache keys, so model results are recomputed, not looked up. The tornado sensitivity runs in the
background and is timed separately.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="rounds of each change (default 5)")
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.ui.assumptions_editor import AssumptionsEditor
    from planner.ui.commands import EditSiteCommand
    from planner.ui.panels import HybridPanel, MarketPanel, MiningPanel, PanelHost, PathsPanel, ReadinessPanel
    from planner.ui.panels.base import cached_tornado, clear_caches

    project = open_project(sample_project())
    host = PanelHost(project)
    p = project.portfolio
    ids = p.ids()
    panels = [cls(host) for cls in (ReadinessPanel, MiningPanel, PathsPanel, HybridPanel, MarketPanel)]
    for panel in panels:
        panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        panel.resize(1100, 750)
        panel.show()
    for panel in panels:  # the tornado runs in a worker thread: keep it out of the redraw timings
        if hasattr(panel, "_tornado_timer"):
            panel._tornado_timer.setInterval(10**8)
    editor = AssumptionsEditor(host)
    host.set_current_site(ids[0])
    app.processEvents()
    for panel in panels:
        panel.flush()

    times: dict[str, dict[str, list[float]]] = {}

    def timed(change: str, action) -> None:
        t0 = time.perf_counter()
        action()
        for panel in panels:
            panel.flush()
        total = (time.perf_counter() - t0) * 1000.0
        row = times.setdefault(change, {})
        for panel in panels:
            if panel.last_refresh_ms is not None and panel.refresh_count:
                row.setdefault(panel.panel_title, []).append(panel.last_refresh_ms)
        row.setdefault("all panels (signal to redraw)", []).append(total)
        for panel in panels:
            panel.last_refresh_ms = None

    site_cycle = [s for s in ids if p.get(s).power_capacity_mw is not None][: args.repeat + 1]
    for r in range(args.repeat):
        sid = site_cycle[(r + 1) % len(site_cycle)]
        timed("select site", lambda sid=sid: host.set_current_site(sid))
        cur = p.get(sid)
        new_en = (cur.energized_mw or 0.0) * 0.5 if cur.energized_mw else min(10.0, cur.power_capacity_mw or 10.0)
        timed("edit energized_mw", lambda sid=sid, v=new_en: host.undo_stack.push(
            EditSiteCommand.create(p, sid, "energized_mw", v)))
        timed("edit assumption (BTC price)", lambda r=r: editor.set_assumption("btc_price_usd", 80_000.0 + 7_000 * r))
        timed("edit readiness weight", lambda r=r: editor.set_weight("land", 6.0 + r))
        timed("undo", host.undo_stack.undo)
    site, a = p.get(host.current_site), panels[1].assumptions()
    clear_caches()
    t0 = time.perf_counter()
    cached_tornado(site, a)
    tornado_ms = (time.perf_counter() - t0) * 1000.0

    print(f"Panel update times on the sample ({len(ids)} sites), {args.repeat} rounds, ms: median / max")
    for change, row in times.items():
        print(f"\n{change}")
        for name, vals in row.items():
            print(f"  {name:<34} {statistics.median(vals):7.1f} / {max(vals):7.1f}")
    print(f"\nTornado sensitivity (background thread, not in the redraw): {tornado_ms:.0f} ms")
    editor.deleteLater()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
