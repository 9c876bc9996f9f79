"""Benchmark: cold start of the desktop app against a bare QWebEngineView floor, in the same run.

Run on demand (not part of the tests)::

    python benchmarks/bench_startup.py [--repeat 3] [--platform offscreen|xcb]

Each measurement is a fresh process with a fresh profile (empty HOME / XDG config, cache and
data directories: no settings, no last project, no cached map page), timed from the moment the
process is spawned:

- ``app``: ``python -m planner`` (what the analyst starts) opening the bundled sample, with
  ``PLANNER_STARTUP_TRACE``: ``window`` (main window shown: the sites table's first paint),
  ``table`` (sample open, sites table painted filled), ``map`` (map page reports
  ``plannerMap.ready`` with every site drawn);
  On a fresh profile the sample's map comes from the page shipped beside it
  (``maps/sample_portfolio.page.html``, :mod:`planner.webmap.page_cache`);
- ``app (warm cache)``: the same with the profile of the previous ``app`` run kept (cached map
  page, settings with the last project);
- ``app, a project never opened here``: ``python -m planner COPY`` on a copy of the sample at a new
  path with a fresh profile: no kept page of any kind, so the map waits for the read and the page
  build (what an analyst's own project costs on its first open on a laptop);
- ``floor``: a bare ``QWebEngineView`` in a fresh process loading the app's own map page
  (``build_map`` of the sample with its readiness scores, exported once beforehand: same
  layers, same size) until the page reports ready. Python, Qt and WebEngine start-up are in
  both; what the app adds over the floor is opening the project, building the window and
  building the page.

The planner's bytecode is compiled before the timed runs (as installing the wheel does; this
machine sets PYTHONDONTWRITEBYTECODE, so a checkout would otherwise compile every module at every
start, a cost the floor never pays).

Prints each run, the median per row, the ratio app/floor and the load average before each run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from planner.assets import sample_project  # noqa: E402


FLOOR_CHILD = """
import sys, time, json
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication
from PySide6.QtWebEngineWidgets import QWebEngineView
app = QApplication(sys.argv[:1])
view = QWebEngineView()
view.resize(1280, 800)
view.show()
view.load(QUrl.fromLocalFile(sys.argv[1]))
def poll():
    view.page().runJavaScript("window.plannerMap && plannerMap.ready ? plannerMap.countFeatures() : ''", 0, done)
def done(result):
    if isinstance(result, str) and result and json.loads(result).get("sites", 0) >= int(sys.argv[2]):
        print("READY", time.time(), flush=True)
        app.quit()
    else:
        QTimer.singleShot(25, poll)
QTimer.singleShot(0, poll)
app.exec()
"""


def compile_bytecode() -> None:
    """Write the planner's ``__pycache__`` (ignored by git) before the timed runs, as installing the
    wheel does: a checkout under PYTHONDONTWRITEBYTECODE (this machine) otherwise compiles every
    planner module at every start (~0.3-0.5 s), which the floor never pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "planner")], env=env, check=True,
                   stdin=subprocess.DEVNULL)


def _profile_env(home: Path, platform: str) -> dict[str, str]:
    env = dict(os.environ)
    for key, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state")):
        path = home / sub if sub else home
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    env["QT_QPA_PLATFORM"] = platform
    env.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def run_app(home: Path, platform: str, project: Path | None = None) -> dict[str, float]:
    """One app start; seconds from spawn to each traced event (phases too, see ``planner.app.trace_phase``)."""
    trace = home / "trace.jsonl"
    trace.unlink(missing_ok=True)
    env = _profile_env(home, platform)
    env.update(PLANNER_STARTUP_TRACE=str(trace), PLANNER_STARTUP_EXIT="1")
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "planner", *([str(project)] if project else [])], env=env, cwd=REPO, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    events = {}
    if trace.exists():
        for line in trace.read_text().splitlines():
            e = json.loads(line)
            events[e["event"]] = e["t"] - t0
    if "map" not in events:
        raise RuntimeError(f"app run did not reach map ready (exit {proc.returncode}): {proc.stderr[-1500:]}")
    return events


def export_page(home: Path) -> tuple[Path, int]:
    """The app's map page of the sample (with readiness scores), written once; and its site count."""
    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.model.readiness import score_portfolio
    from planner.webmap import build_map

    project = open_project(sample_project())
    html = build_map(project, dict(score_portfolio(project.portfolio)))
    path = home / "map.html"
    path.write_text(html, encoding="utf-8")
    return path, sum(1 for s in project.portfolio if s.lat is not None and s.lon is not None)


def run_floor(page: Path, n_sites: int, home: Path, platform: str) -> float:
    env = _profile_env(home, platform)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", FLOOR_CHILD, str(page), str(n_sites)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    ready = [line for line in proc.stdout.splitlines() if line.startswith("READY ")]
    if not ready:
        raise RuntimeError(f"floor run did not reach ready (exit {proc.returncode}): {proc.stderr[-1500:]}")
    return float(ready[0].split()[1]) - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM of the children (offscreen, xcb)")
    p.add_argument("--phases", action="store_true", help="print each app run's phases (planner.app.trace_phase)")
    args = p.parse_args(argv)
    compile_bytecode()
    rows: dict[str, list[float]] = {}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = Path(tmp)
        page, n_sites = export_page(root)
        print(f"page: {page.stat().st_size / 1e6:.2f} MB, {n_sites} sites; platform {args.platform}; "
              f"{os.cpu_count()} CPUs; planner bytecode compiled beforehand")
        for i in range(args.repeat):
            # alternate the order so a load spike hits both sides alike
            for kind in (("floor", "app") if i % 2 == 0 else ("app", "floor")):
                loads.append(os.getloadavg()[0])
                if kind == "floor":
                    t = run_floor(page, n_sites, root / f"floor-{i}", args.platform)
                    rows.setdefault("floor: bare QWebEngineView, same page, to ready", []).append(t)
                    print(f"run {i + 1} floor {t:.2f} s (load {loads[-1]:.1f})")
                else:
                    home = root / f"app-{i}"
                    ev = run_app(home, args.platform)
                    warm = run_app(home, args.platform)  # same profile: cached page, last project
                    copy = root / f"copy-{i}" / "my_portfolio.gpkg"
                    copy.parent.mkdir()
                    shutil.copyfile(sample_project(), copy)
                    new = run_app(copy.parent, args.platform, copy)
                    for name, key, evs in (("app cold: window shown", "window", ev),
                                           ("app cold: sites table", "table", ev),
                                           ("app cold: map ready", "map", ev),
                                           ("app warm profile: map ready", "map", warm),
                                           ("app, project never opened here: table", "table", new),
                                           ("app, project never opened here: map ready", "map", new)):
                        rows.setdefault(name, []).append(evs[key])
                    print(f"run {i + 1} app window {ev['window']:.2f} s, table {ev['table']:.2f} s, "
                          f"map {ev['map']:.2f} s; warm map {warm['map']:.2f} s; never opened: table "
                          f"{new['table']:.2f} s, map {new['map']:.2f} s (load {loads[-1]:.1f})")
                    if args.phases:
                        for label, evs in (("cold", ev), ("warm", warm), ("never opened", new)):
                            print(f"    {label}: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(evs.items(),
                                                                                          key=lambda kv: kv[1])))
    floor = statistics.median(rows["floor: bare QWebEngineView, same page, to ready"])
    print(f"\nload average during the runs: {min(loads):.1f}-{max(loads):.1f}\n")
    print("| measure | median | runs | vs floor |\n|---|---|---|---|")
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} s | {', '.join(f'{v:.2f}' for v in values)} | {med / floor:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
