"""Time the report pipeline on the bundled 40-site sample against a one-page printToPdf floor.

Run: ``python benchmarks/bench_reports.py [--out DIR]``. WebEngine start-up is timed on its own
(paid once per process, by the CLI and the app alike); each report is then timed warm. The floor,
measured in the same run and process: ``html_to_pdf`` of a one-page HTML document (load the page,
``printToPdf``, write the file), best of 3; each report is printed with its ratio to it.
Targets (issue #16): site report warm < 2 s, portfolio with a 40-site atlas < 15 s.

The atlas run also prints where its time goes, read off its progress callback: content (0-0.2),
maps (0.2-0.6), per-site charts and sections (0.6-0.9), HTML (0.9-0.92), print to PDF (0.92-1).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # time this checkout, not another install

TARGETS_S = {"site report": 2.0, "portfolio report, 40 sites with atlas": 15.0}
#: (stage, progress fraction at which it ends) of portfolio_report_pdf
ATLAS_STAGES = (("content", 0.2), ("maps (overview + one per site)", 0.6), ("charts and sections", 0.9),
                ("HTML", 0.92), ("print to PDF + metadata", 1.0))
ONE_PAGE = ("<!doctype html><html><head><meta charset='utf-8'><title>floor</title></head><body>"
            "<h1>One page</h1><p>" + "Floor of the PDF pipeline. " * 40 + "</p></body></html>")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per step; exit 1 when a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=None, help="folder for the PDFs (default: a temp folder)")
    ap.add_argument("--site", default="RIOT-RKD")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="planner-bench-"))
    out.mkdir(parents=True, exist_ok=True)

    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.gis.proximity import apply_proximity
    from planner.reports.render_qt import ensure_app, html_to_pdf, portfolio_report_pdf, site_report_pdf

    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")

    times: dict[str, float] = {}
    t = time.perf_counter()
    project = open_project(sample_project())
    apply_proximity(project)
    times["open project + proximity"] = time.perf_counter() - t
    t = time.perf_counter()
    ensure_app()
    times["Qt/WebEngine start-up"] = time.perf_counter() - t
    floor = float("inf")
    for i in range(3):
        t = time.perf_counter()
        html_to_pdf(ONE_PAGE, out / f"floor{i}.pdf")
        floor = min(floor, time.perf_counter() - t)
    times["floor: one-page printToPdf (best of 3)"] = floor
    t = time.perf_counter()
    site_report_pdf(project, args.site, out / "site.pdf")
    times["site report (first, cold page cache)"] = time.perf_counter() - t
    t = time.perf_counter()
    site_report_pdf(project, args.site, out / "site2.pdf")
    times["site report"] = time.perf_counter() - t
    ends: dict[str, float] = {}

    def stage(fraction: float) -> None:
        for name, end in ATLAS_STAGES:
            if fraction >= end - 1e-9 and name not in ends:
                ends[name] = time.perf_counter()

    t = time.perf_counter()
    portfolio_report_pdf(project, out / "portfolio_atlas.pdf", atlas=True, progress=stage)
    times["portfolio report, 40 sites with atlas"] = time.perf_counter() - t
    missed = 0
    for name, secs in times.items():
        target = TARGETS_S.get(name)
        flag = "" if target is None else (f"  (target < {target:g} s: {'ok' if secs < target else 'MISSED'})")
        missed += bool(target is not None and secs >= target)
        ratio = "" if name.startswith(("floor", "open", "Qt")) else f"  {secs / floor:5.1f}x floor"
        print(f"{name:<42} {secs:7.2f} s{ratio}{flag}")
    prev = t
    for name, _ in ATLAS_STAGES:
        end = ends.get(name, prev)
        print(f"  atlas stage: {name:<32} {end - prev:7.2f} s")
        prev = end
    print(f"load average at end: {os.getloadavg()[0]:.1f}; PDFs in {out}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
