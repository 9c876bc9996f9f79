"""PyInstaller hook for pyogrio (none ships with pyinstaller-hooks-contrib 2026.9).

pyogrio's PyPI wheels bundle GDAL (``pyogrio.libs``) together with the GDAL support files
(``pyogrio/gdal_data``) and a PROJ database matching *its* PROJ build (``pyogrio/proj_data``).
At import it points GDAL at those folders when they sit next to the package, so they must
be collected to the same relative place. pyproj's own PROJ data is a different build and is
collected separately by the contrib ``hook-pyproj``.
"""
from PyInstaller.utils.hooks import collect_data_files, collect_submodules

datas = collect_data_files("pyogrio", excludes=["tests", "tests/**"])
hiddenimports = [m for m in collect_submodules("pyogrio") if not m.startswith("pyogrio.tests")]
