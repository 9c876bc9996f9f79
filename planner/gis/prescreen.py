"""Raster pre-screen of a regular cell grid: distance bounds for every cell at once (numpy/scipy, never Qt).

:mod:`planner.gis.screening` lays square cells of side ``r`` in an equal-area CRS (EPSG:5070 over
the contiguous US). The cells are the pixels of a raster, so "how far is every cell from the
nearest 345 kV line" is a distance transform (:func:`scipy.ndimage.distance_transform_edt`) of the
rasterised layer, computed for a whole band of rows at once. What this module guarantees, and
``tests/test_screening.py`` checks (a hypothesis property test against brute force), is bounds:

Planar bounds (:func:`nearest_bounds`)
    Each feature is sampled in the plane at spacing ``s`` (points: themselves; segments: both
    ends and points at most ``s`` apart, so every point of the feature lies within ``s / 2`` of a
    sample). A pixel is *marked* when it holds a sample; every marked pixel keeps one of its
    samples. For a cell centre ``c`` the transform gives the nearest marked pixel centre ``q`` at
    ``D = |c - q|``. Every sample lies within ``r / sqrt(2)`` of its pixel centre, so the planar
    distance ``d`` from ``c`` to the feature satisfies ``d >= D - r / sqrt(2) - s / 2``, and
    ``d <= |c - p|`` for the sample ``p`` kept in ``q`` (a real point of the feature). Features
    outside the band's window (the band grown by a halo) are at least the distance from ``c`` to
    the window edge away, so the lower bound is capped there.

Geodesic bounds (:class:`ScaleField`, :func:`geodesic_bounds`)
    The projection's point scale in any direction lies between the Tissot semi-minor and
    semi-major axes. :class:`ScaleField` tabulates them on a coarse node grid and takes, for
    each node, the min/max over every node within ``pad`` (plus a relative slack for the scale
    between nodes). Then for the true geodesic distance ``G``: ``G >= min(d, pad) / s_max`` (the
    image of the geodesic has planar length <= ``s_max * G`` while it stays within ``pad``,
    and leaving the pad takes ``pad / s_max``) and ``G <= d / s_min`` when ``d <= pad`` (the
    planar straight segment's pre-image is a path of at most that length).

Flared gas within a radius (:func:`disk_sums`)
    Sums of per-pixel volumes over pixel-centre disks by FFT convolution: a flare counted by the
    exact rule lies within ``R_hi`` (planar) of the cell, so its pixel centre lies within
    ``R_hi + r / sqrt(2)``; a flare whose pixel centre lies within ``R_lo - r / sqrt(2)`` is within
    ``R_lo`` for sure. FFT round-off is absorbed by an explicit margin.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Proj, Transformer

# scipy is imported inside the functions: the desktop app imports this module with the screening
# dialog at start-up, and scipy.ndimage/scipy.fft cost ~0.5 s each to import on a loaded laptop

__all__ = ["Samples", "ScaleField", "disk_sums", "geodesic_bounds", "nearest_bounds", "one_per_pixel", "sample_features",
           "sample_points", "SamplePixels"]

_HALF_DIAG = math.sqrt(0.5)
_SCALE_SLACK = 3e-3       # scale change between a point and its nearest node (40 km step), with room
_SCALE_STEP_M = 40_000.0
_FFT_REL_EPS = 1e-9       # FFT round-off margin, relative to the window's total volume


@dataclass
class Samples:
    """Sample points of one layer reduced to one per pixel: pixel indices and the kept point (grid CRS, m)."""

    ix: np.ndarray       # int32 pixel column (floor(x / r))
    iy: np.ndarray       # int32 pixel row
    x: np.ndarray        # float64 sample x in that pixel
    y: np.ndarray
    spacing_m: float     # samples along segments are at most this far apart (0 for point layers)

    def __len__(self) -> int:
        return len(self.ix)


def sample_features(points: np.ndarray, segments: np.ndarray, cell_m: float) -> Samples:
    """Sample points (n x 2) and segments (m x 2 x 2) in the plane at spacing ``cell_m / 2``; one per pixel."""
    xy, _ = sample_points(points, segments, cell_m)
    return one_per_pixel(xy, cell_m, cell_m / 2.0 if len(np.asarray(segments).reshape(-1, 4)) else 0.0)


def sample_points(points: np.ndarray, segments: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Every sample of :func:`sample_features` before the one-per-pixel reduction, in order, with its source.

    Returns ``(xy, source)``: ``source`` is the point's index (0..n-1) or ``n +`` the segment's.
    Samples of a subset of the features (kept in order) are the same subsequence of these.
    """
    spacing = cell_m / 2.0
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    parts, source = [pts], [np.arange(len(pts), dtype=np.int64)]
    segs = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
    if len(segs):
        a, b = segs[:, 0, :], segs[:, 1, :]
        n = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / spacing)).astype(np.int64)
        owner = np.repeat(np.arange(len(segs)), n + 1)
        start = np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
        t = (np.arange(len(owner)) - start) / n[owner]
        parts.append(a[owner] + t[:, None] * (b - a)[owner])
        source.append(len(pts) + owner)
    if len(parts) == 1:
        return parts[0], source[0]
    return np.concatenate(parts), np.concatenate(source)


def one_per_pixel(xy: np.ndarray, cell_m: float, spacing_m: float) -> Samples:
    """The first sample point of each pixel (``spacing_m``: the features' sampling step, 0 for points)."""
    return SamplePixels(xy, cell_m).first(None, spacing_m)


class SamplePixels:
    """Sample points with their pixels, sorted by pixel once: the first sample per pixel of any subset.

    ``first(mask)`` equals ``one_per_pixel(xy[mask], ...)``: a stable sort keeps each pixel's samples
    in order, so a subset's first one is its first surviving entry (the line classes share one sort).
    """

    def __init__(self, xy: np.ndarray, cell_m: float):
        self.xy = xy
        self.ix = np.floor(xy[:, 0] / cell_m).astype(np.int64)
        self.iy = np.floor(xy[:, 1] / cell_m).astype(np.int64)
        self.key = (self.iy + 2 ** 30) * 2 ** 31 + (self.ix + 2 ** 30)
        self.order = np.argsort(self.key, kind="stable")

    def first(self, mask: np.ndarray | None, spacing_m: float) -> Samples:
        """The first sample of each pixel among those where ``mask`` holds (all for None), in input order."""
        sel = self.order if mask is None else self.order[mask[self.order]]
        k = self.key[sel]
        first = np.sort(sel[np.concatenate([[True], k[1:] != k[:-1]])] if len(sel) else sel)
        return Samples(self.ix[first].astype(np.int32), self.iy[first].astype(np.int32), self.xy[first, 0].copy(),
                       self.xy[first, 1].copy(), spacing_m)


def nearest_bounds(samples: Samples, cell_m: float, window: tuple[int, int, int, int], qx: np.ndarray,
                   qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar lower and upper bounds (m) on the distance from cell centres to the sampled features.

    ``window`` = (ix0, iy0, ix1, iy1), pixel index bounds (end exclusive) holding every query cell
    ``(qx, qy)`` (pixel indices). Returns ``(lo, hi)``; ``hi`` is inf when no sample lies in the window.
    """
    from scipy import ndimage

    wx0, wy0, wx1, wy1 = window
    h, w = wy1 - wy0, wx1 - wx0
    qr, qc = qy.astype(np.int64) - wy0, qx.astype(np.int64) - wx0
    edge = cell_m * (np.minimum(np.minimum(qr, h - 1 - qr), np.minimum(qc, w - 1 - qc)) + 0.5)
    sel = np.flatnonzero((samples.ix >= wx0) & (samples.ix < wx1) & (samples.iy >= wy0) & (samples.iy < wy1))
    if not len(sel):
        return edge, np.full(len(qx), np.inf)
    rows, cols = samples.iy[sel].astype(np.int64) - wy0, samples.ix[sel].astype(np.int64) - wx0
    free = np.ones((h, w), dtype=bool)
    free[rows, cols] = False
    owner = np.full((h, w), -1, dtype=np.int32)
    owner[rows, cols] = np.arange(len(sel), dtype=np.int32)
    ind = ndimage.distance_transform_edt(free, return_distances=False, return_indices=True)
    nr, nc = ind[0][qr, qc].astype(np.int64), ind[1][qr, qc].astype(np.int64)
    del ind, free
    centre = cell_m * np.hypot(nr - qr, nc - qc)
    k = sel[owner[nr, nc]]
    cx, cy = (qx + 0.5) * cell_m, (qy + 0.5) * cell_m
    hi = np.hypot(samples.x[k] - cx, samples.y[k] - cy)
    lo = np.minimum(np.maximum(centre - cell_m * _HALF_DIAG - samples.spacing_m / 2.0, 0.0), edge)
    return lo, hi


class ScaleField:
    """Lowest/highest point scale (any direction) of a projected CRS within ``pad_m`` of a point."""

    def __init__(self, crs_wkt: str, bounds: tuple[float, float, float, float], pad_m: float,
                 step_m: float = _SCALE_STEP_M):
        from scipy import ndimage

        x0, y0, x1, y1 = bounds
        self.pad_m, self.step = float(pad_m), float(step_m)
        margin = pad_m + 2 * step_m
        self.x0, self.y0 = x0 - margin, y0 - margin
        xs = np.arange(self.x0, x1 + margin + step_m, step_m)
        ys = np.arange(self.y0, y1 + margin + step_m, step_m)
        gx, gy = np.meshgrid(xs, ys)
        crs = CRS.from_wkt(crs_wkt)
        lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(gx.ravel(), gy.ravel())
        f = Proj(crs).get_factors(lon, lat, errcheck=False)
        a = np.asarray(f.tissot_semimajor, dtype=float).reshape(gx.shape)
        b = np.asarray(f.tissot_semiminor, dtype=float).reshape(gx.shape)
        ok = np.isfinite(a) & np.isfinite(b) & (b > 0) & np.isfinite(lon.reshape(gx.shape)) \
            & (np.abs(lat.reshape(gx.shape)) < 89.9)
        a = np.where(ok, a, np.inf)   # outside the projection's domain: no bound (conservative)
        b = np.where(ok, b, 0.0)
        m = 2 * (int(math.ceil(pad_m / step_m)) + 1) + 1
        self.smax = ndimage.maximum_filter(a, size=m, mode="nearest") * (1 + _SCALE_SLACK)
        self.smin = ndimage.minimum_filter(b, size=m, mode="nearest") * (1 - _SCALE_SLACK)

    def at(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(s_min, s_max) for points x, y (grid CRS metres)."""
        i = np.clip(np.rint((np.asarray(x) - self.x0) / self.step).astype(np.int64), 0, self.smin.shape[1] - 1)
        j = np.clip(np.rint((np.asarray(y) - self.y0) / self.step).astype(np.int64), 0, self.smin.shape[0] - 1)
        return self.smin[j, i], self.smax[j, i]


def geodesic_bounds(lo_m: np.ndarray, hi_m: np.ndarray, s_min: np.ndarray, s_max: np.ndarray, pad_m: float,
                    delta_km: float, rel_slack: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds in km on the geodesic distance from planar bounds in m (see the module docstring).

    ``delta_km`` covers the gap between the projected polyline and the measured feature,
    ``rel_slack`` the exact method's own worst-case over-estimate.
    """
    lo_p = np.minimum(np.maximum(lo_m / 1000.0 - delta_km, 0.0), pad_m / 1000.0)
    hi_p = hi_m / 1000.0 + delta_km
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = lo_p / s_max * (1 - rel_slack)
        hi = np.where(hi_p * 1000.0 <= pad_m, hi_p / s_min * (1 + rel_slack), np.inf)
    return np.where(np.isnan(lo_m), np.nan, lo), np.where(np.isnan(hi_m), np.nan, hi)


def _disk(radius_px: float) -> np.ndarray:
    k = max(0, int(math.floor(radius_px)))
    o = np.arange(-k, k + 1)
    return (np.hypot(*np.meshgrid(o, o)) <= radius_px).astype(float)


def _convolve_same(grid: np.ndarray, kernel: np.ndarray, spectrum: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
    """``grid`` convolved with an odd square ``kernel``, same shape (FFT, zero padded: no wrap-around)."""
    from scipy import fft

    h, w = grid.shape
    r = kernel.shape[0] // 2
    shape = (fft.next_fast_len(h + 2 * r, real=True), fft.next_fast_len(w + 2 * r, real=True))
    if shape not in spectrum:   # the grid's transform, shared by kernels of the same padded size
        spectrum[shape] = fft.rfft2(grid, shape)
    full = np.asarray(fft.irfft2(spectrum[shape] * fft.rfft2(kernel, shape), shape), dtype=float)
    return full[r:r + h, r:r + w]


def disk_sums(ix: np.ndarray, iy: np.ndarray, values: np.ndarray, cell_m: float,
              window: tuple[int, int, int, int], qx: np.ndarray, qy: np.ndarray,
              radii_m: dict[str, tuple[float, str]]) -> dict[str, np.ndarray]:
    """Sums of ``values`` (at pixels ix, iy) over disks around the query cells, one per named radius.

    ``radii_m`` maps a name to ``(radius in m, mode)``; mode ``"lo"`` counts pixels whose every point
    lies within the radius of the cell centre (a lower bound of the sum over points within the
    radius), ``"hi"`` pixels with any point within it (an upper bound), ``"centre"`` pixels whose
    centre does (an estimate). The window must hold every pixel within the largest radius of the
    query cells; values must be >= 0.
    """
    wx0, wy0, wx1, wy1 = window
    h, w = wy1 - wy0, wx1 - wx0
    sel = (ix >= wx0) & (ix < wx1) & (iy >= wy0) & (iy < wy1)
    flat_grid = np.zeros(h * w)
    if sel.any():
        flat = (iy[sel].astype(np.int64) - wy0) * w + (ix[sel].astype(np.int64) - wx0)
        flat_grid = np.bincount(flat, weights=values[sel], minlength=h * w).astype(float)
    grid = flat_grid.reshape(h, w)
    total = float(grid.sum())
    qr, qc = qy.astype(np.int64) - wy0, qx.astype(np.int64) - wx0
    out: dict[str, np.ndarray] = {}
    spectrum: dict[tuple[int, int], np.ndarray] = {}
    for name, (radius, mode) in radii_m.items():
        if total <= 0:
            out[name] = np.zeros(len(qx))
            continue
        shift = {"lo": -cell_m * _HALF_DIAG, "hi": cell_m * _HALF_DIAG, "centre": 0.0}[mode]
        r_px = (radius + shift) / cell_m
        if r_px < 0:
            out[name] = np.zeros(len(qx))
            continue
        conv = _convolve_same(grid, _disk(r_px), spectrum)[qr, qc]
        eps = _FFT_REL_EPS * total
        if mode == "lo":
            out[name] = np.maximum(conv - eps, 0.0)
        elif mode == "hi":
            out[name] = np.maximum(conv, 0.0) + eps
        else:
            out[name] = np.maximum(np.where(np.abs(conv) < eps, 0.0, conv), 0.0)
    return out
