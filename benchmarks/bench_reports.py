"""Time the report pipeline on the bundled 40-site sample (targets: site report < 5 s, atlas < 60 s).

Run: ``python benchmarks/bench_reports.py [--out DIR]``. WebEngine start-up is timed on its own
(paid once per process, by the CLI and the app alike); each report is then timed warm.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TARGETS_S = {"site report": 5.0, "portfolio report, 40 sites with atlas": 60.0}


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
    from planner.reports.render_qt import ensure_app, portfolio_report_pdf, site_report_pdf

    times: dict[str, float] = {}
    t = time.perf_counter()
    project = open_project(sample_project())
    apply_proximity(project)
    times["open project + proximity"] = time.perf_counter() - t
    t = time.perf_counter()
    ensure_app()
    times["Qt/WebEngine start-up"] = time.perf_counter() - t
    t = time.perf_counter()
    site_report_pdf(project, args.site, out / "site.pdf")
    times["site report (first, cold page cache)"] = time.perf_counter() - t
    t = time.perf_counter()
    site_report_pdf(project, args.site, out / "site2.pdf")
    times["site report"] = time.perf_counter() - t
    t = time.perf_counter()
    portfolio_report_pdf(project, out / "portfolio_atlas.pdf", atlas=True)
    times["portfolio report, 40 sites with atlas"] = time.perf_counter() - t
    missed = 0
    for name, secs in times.items():
        target = TARGETS_S.get(name)
        flag = "" if target is None else (f"  (target < {target:g} s: {'ok' if secs < target else 'MISSED'})")
        missed += bool(target is not None and secs >= target)
        print(f"{name:<42} {secs:7.2f} s{flag}")
    print(f"PDFs in {out}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
