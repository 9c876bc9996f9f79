"""Raster pre-screen bounds (planner.gis.prescreen): never tighter than the truth (hypothesis properties)."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from planner.assets import sample_project
from planner.gis.prescreen import (
    SamplePixels, ScaleField, disk_sums, geodesic_bounds, nearest_bounds, sample_features,
)
from planner.gis.project import open_project
from planner.gis.screening import _Feats, screen

GEOD = Geod(ellps="WGS84")
TO_ALBERS = Transformer.from_crs(4326, 5070, always_xy=True)
coord = st.floats(0, 40_000, allow_nan=False)


@st.composite
def features(draw):
    segs = draw(st.lists(st.tuples(coord, coord, coord, coord), max_size=6))
    pts = draw(st.lists(st.tuples(coord, coord), max_size=6))
    if not segs and not pts:
        pts = [draw(st.tuples(coord, coord))]
    return np.array(segs, dtype=float).reshape(-1, 2, 2), np.array(pts, dtype=float).reshape(-1, 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feats=features(), cell_m=st.sampled_from([700.0, 1000.0, 3000.0]), at_least=st.sampled_from([None, 1, 2]),
       window=st.tuples(st.integers(-3, 40), st.integers(-3, 40), st.integers(1, 30), st.integers(1, 30)),
       seed=st.integers(0, 2 ** 16))
def test_a_bands_window_samples_are_the_whole_layers_samples_in_that_window(feats, cell_m, at_least, window, seed):
    # each band samples only the features that can reach its window (and the line classes share
    # one sampling, keyed by kV): inside the window this must be exactly the global sampling, so
    # bounds and results do not depend on how the grid is split into bands
    segs, pts = feats
    rng = np.random.default_rng(seed)
    pt_key, seg_key = rng.integers(0, 3, len(pts)).astype(float), rng.integers(0, 3, len(segs)).astype(float)
    f = _Feats(pts, segs, pt_key, seg_key)
    x0, y0, w, h = window
    box = (x0, y0, x0 + w, y0 + h)
    xy, key = f.window_samples(cell_m, box)
    sub_pts, sub_segs = f.subset(at_least)
    spacing = cell_m / 2.0 if len(sub_segs) else 0.0
    # one sort of the window's samples serves every subset (as the line classes use it)
    band = SamplePixels(xy, cell_m).first(None if at_least is None else key >= at_least, spacing)
    whole = sample_features(sub_pts, sub_segs, cell_m)

    def inside(s):
        k = (s.ix >= box[0]) & (s.ix < box[2]) & (s.iy >= box[1]) & (s.iy < box[3])
        return np.column_stack([s.ix[k], s.iy[k], s.x[k], s.y[k]])

    np.testing.assert_array_equal(inside(band), inside(whole))
    assert band.spacing_m == whole.spacing_m


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feats=features(), cell_m=st.sampled_from([700.0, 1000.0, 3000.0]), halo=st.integers(0, 12))
def test_raster_distance_bounds_contain_the_planar_distance(feats, cell_m, halo):
    segs, pts = feats
    samples = sample_features(pts, segs, cell_m)
    degenerate = (segs[:, 0] == segs[:, 1]).all(axis=1)
    parts = np.concatenate([shapely.linestrings(segs[~degenerate]), shapely.points(segs[degenerate, 0]),
                            shapely.points(pts)])
    n = int(40_000 // cell_m) + 1
    qx, qy = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n)))
    # a window only `halo` pixels beyond the cells: features outside it must still be bounded
    lo, hi = nearest_bounds(samples, cell_m, (-halo, -halo, n + halo, n + halo), qx, qy)
    cells = shapely.points((qx + 0.5) * cell_m, (qy + 0.5) * cell_m)
    with np.errstate(divide="ignore"):  # GEOS sets the FP flag on near-degenerate segments it then handles
        truth = shapely.distance(cells[:, None], parts[None, :]).min(axis=1)
    assert (lo <= truth + 1e-6).all()
    assert (truth <= hi + 1e-6).all()
    if halo >= n:   # every feature inside the window: bounds within a pixel of the truth
        assert (hi - lo <= 2 * cell_m).all()


@pytest.fixture(scope="module")
def conus_scale():
    x0, y0, x1, y1 = -2_356_000.0, 270_000.0, 2_258_000.0, 3_173_000.0   # CONUS in EPSG:5070
    return ScaleField(CRS.from_epsg(5070).to_wkt(), (x0, y0, x1, y1), 400_000.0)


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(-124, -67), lat=st.floats(25, 49), az=st.floats(-180, 180), km=st.floats(0.01, 500))
def test_geodesic_bounds_contain_the_geodesic_distance(conus_scale, lon, lat, az, km):
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, km * 1000.0)
    (x1, x2), (y1, y2) = TO_ALBERS.transform([lon, lon2], [lat, lat2])
    d = np.array([np.hypot(x2 - x1, y2 - y1)])
    s_min, s_max = conus_scale.at(np.array([x1]), np.array([y1]))
    lo, hi = geodesic_bounds(d, d, s_min, s_max, conus_scale.pad_m, 0.0, 0.0)
    g = GEOD.inv(lon, lat, lon2, lat2)[2] / 1000.0
    assert lo[0] <= g * (1 + 1e-9) and g <= hi[0] * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(pts=st.lists(st.tuples(coord, coord, st.floats(0, 5)), min_size=1, max_size=30),
       cell_m=st.sampled_from([1000.0, 2500.0]), radius=st.floats(500, 15_000))
def test_disk_sums_bound_the_volume_within_the_radius(pts, cell_m, radius):
    xy = np.array([p[:2] for p in pts])
    vol = np.array([p[2] for p in pts])
    n = int(40_000 // cell_m) + 1
    qx, qy = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n)))
    h = int(np.ceil(radius / cell_m)) + 2
    sums = disk_sums(np.floor(xy[:, 0] / cell_m).astype(int), np.floor(xy[:, 1] / cell_m).astype(int), vol, cell_m,
                     (-h, -h, n + h, n + h), qx, qy, {"lo": (radius, "lo"), "hi": (radius, "hi")})
    cx, cy = (qx + 0.5) * cell_m, (qy + 0.5) * cell_m
    d = np.hypot(xy[None, :, 0] - cx[:, None], xy[None, :, 1] - cy[:, None])
    truth = (vol[None, :] * (d <= radius)).sum(axis=1)
    assert (sums["lo"] <= truth + 1e-12).all() and (truth <= sums["hi"] + 1e-12).all()


@pytest.fixture(scope="module")
def project():
    return open_project(sample_project())


SAN_ANTONIO = (-98.5, 29.0, -97.5, 30.0)   # 345 kV lines, fibre, the Eagle Ford flares to the south


def test_bounds_hold_and_top_n_is_exact(project):
    # every cell refined exactly: its exact score lies inside its pre-screen bounds, and the
    # shortlisted screen gives the same top N as refining everything
    full = screen(project, SAN_ANTONIO, 3, top=10, exact_all=True)
    assert full.n_refined == full.n_cells > 1000 and full.bounds_violations == 0
    cells = full.cells[full.cells["score_exact"]]
    assert ((cells["score"] >= cells["score_min"] - 0.01) & (cells["score"] <= cells["score_max"] + 0.01)).all()
    fast = screen(project, SAN_ANTONIO, 3, top=10)
    assert [(c.cell_id, c.score) for c in fast.top] == [(c.cell_id, c.score) for c in full.top]
    assert fast.n_refined < full.n_cells / 5 and fast.bounds_violations == 0
    # without spacing: the 10 best exact scores, found from a small pool; the table holds only that pool
    best = cells.sort_values(["score", "cell_id"], ascending=[False, True]).head(10)
    pool = screen(project, SAN_ANTONIO, 3, top=10, cells="pool", min_spacing_km=0)
    assert [(c.cell_id, c.score) for c in pool.top] == list(zip(best["cell_id"], best["score"]))
    assert pool.n_cells == full.n_cells and pool.cells_scope == "pool" and len(pool.cells) < full.n_cells / 4
    mine = pool.cells.set_index("cell_id")
    ref = cells.set_index("cell_id").loc[mine.index[mine["score_exact"]], "score"]
    assert (mine.loc[ref.index, "score"] == ref).all()
