"""Location of a transmitter from the levels several stations receive (power difference). Pure numpy.

Model (docs/NETWORK.md): station i at (x_i, y_i) receives

    P_i = A - 10 n log10(d_i) + e_i,      e_i ~ N(0, s_i^2),   s_i^2 = shadowing_db^2 + u_i^2

with ``d_i`` the distance to the transmitter (clamped to ``min_distance_m``), ``A`` an unknown level at 1 m
(EIRP minus the 1 m loss: the transmitter's power is never known) and ``n`` the path-loss exponent, unknown
but with a Gaussian prior N(exponent, exponent_sd^2) (without it three stations could not fix a position:
3 levels, 4 unknowns). ``u_i`` is the station's own level uncertainty (calibration).

For a trial position both nuisance parameters have closed forms (weighted least squares in A and n), so the
profile cost

    D(x, y) = min_{A, n} [ sum_i (P_i - A + 10 n log10 d_i)^2 / s_i^2 + (n - n0)^2 / sn^2 ]

(-2 log likelihood up to a constant) is evaluated on a grid over the search area, the best grid point is
refined with Nelder-Mead, and the 95 % confidence region is the likelihood-ratio set
``D(x, y) - D_min <= chi2_2(0.95) = 5.99`` traced as polygons on a finer grid (Wilks; approximate, the
localisation benchmark measures its real coverage). With ``k >= 4`` stations ``D_min`` is a goodness-of-fit
statistic with ``k - 3`` degrees of freedom (three stations: tested against one, conservatively): a tiny
p-value says the levels are not those of one source.

Two stations fix no point: their region is the band around an Apollonius arc (``kind='arc'``). One station
fixes no direction: the region is a ring of distances consistent with its level for a stated EIRP range
(``kind='ring'``). Both are reported as regions, never as a position.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from station.network.propagation import fspl_1m_db

#: chi-square quantile, 2 degrees of freedom, 95 %: -2 ln(0.05)
CHI2_2DOF_95 = -2.0 * math.log(0.05)

_COARSE = 81  # grid points per axis of the search
_FINE = 121  # grid points per axis of the region
_RING_POINTS = 72


@dataclass(frozen=True, slots=True)
class PathLossPrior:
    """What the localiser assumes about propagation.

    Parameters
    ----------
    exponent : float
        Prior mean of the path-loss exponent n (3.0: urban).
    exponent_sd : float
        Prior standard deviation of n.
    shadowing_db : float
        Standard deviation (dB) of log-normal shadowing between a transmitter and one station.
    min_distance_m : float
        Distances below this are taken as this (antenna heights, near field).
    level_1m_dbm : float or None
        Prior mean of A, the level 1 m from the transmitter (EIRP minus the 1 m loss, dBm); None: A is free
        (flat prior). A broad prior (what transmitters of the band radiate) removes far-off fits that need an
        implausible EIRP; it needs calibrated levels (dBm at the antenna).
    level_1m_sd_db : float
        Prior standard deviation of A (dB).
    """

    exponent: float = 3.0
    exponent_sd: float = 0.5
    shadowing_db: float = 6.0
    min_distance_m: float = 30.0
    level_1m_dbm: float | None = None
    level_1m_sd_db: float = 15.0

    def __post_init__(self):
        for name in ("exponent_sd", "shadowing_db", "min_distance_m", "level_1m_sd_db"):
            if not getattr(self, name) > 0:
                raise ValueError(f"PathLossPrior.{name} must be > 0, got {getattr(self, name)!r}")


@dataclass(frozen=True, slots=True)
class Fix:
    """A location result in the local east/north plane (metres).

    Parameters
    ----------
    kind : str
        'fix' (>= 3 stations: an estimate and a confidence region), 'arc' (2 stations: a band of positions
        consistent with the level difference) or 'ring' (1 station: distances consistent with the level).
    n_stations : int
        Stations whose levels were used.
    x_m, y_m : float or None
        Maximum-likelihood position ('fix' only).
    region : tuple
        Polygons of the region; each polygon is a tuple of rings (outer first, then holes), each ring an
        (N, 2) array of east/north metres, not repeating the first vertex.
    region_bounded : bool
        False when the region reaches the edge of the search area (it is larger than drawn).
    confidence : float
        Confidence level of the region (0.95).
    cost : float
        D_min, the profile -2 log-likelihood at the estimate.
    dof : int
        Degrees of freedom of the goodness-of-fit test (k - 3; 0 when it cannot be tested).
    p_value : float or None
        P(chi2 >= cost) with max(dof, 1) degrees of freedom: small means the levels are not those of one
        source (None for arcs and rings).
    exponent : float
        Path-loss exponent at the estimate.
    level_1m_dbm : float
        A at the estimate: the level 1 m from the transmitter (EIRP minus the 1 m loss).
    area_m2 : float
        Area of the region.
    ring_m : tuple or None
        (r_min, r_max) of a ring.
    crb_m : float or None
        sqrt(trace) of the Cramer-Rao bound on the position at the estimate (m).
    notes : tuple of str
        What the region means when it is not a position (arcs, rings).
    threshold : float
        The region is {D(x, y) - D_min <= threshold}: the parametric-bootstrap quantile of the likelihood-ratio
        statistic at the estimate ('fix'), or the chi-square(2) quantile (arcs).
    """

    kind: str
    n_stations: int
    x_m: float | None
    y_m: float | None
    region: tuple = ()
    region_bounded: bool = True
    confidence: float = 0.95
    cost: float = 0.0
    dof: int = 0
    p_value: float | None = None
    exponent: float = math.nan
    level_1m_dbm: float = math.nan
    area_m2: float = 0.0
    ring_m: tuple[float, float] | None = None
    crb_m: float | None = None
    notes: tuple[str, ...] = field(default=())
    threshold: float = CHI2_2DOF_95


def _check(levels_dbm, xs_m, ys_m, level_u_db):
    p = np.asarray(levels_dbm, dtype=np.float64).ravel()
    xs = np.asarray(xs_m, dtype=np.float64).ravel()
    ys = np.asarray(ys_m, dtype=np.float64).ravel()
    if not (p.size == xs.size == ys.size):
        raise ValueError(f"levels, xs and ys must have the same length, got {p.size}, {xs.size}, {ys.size}")
    if p.size == 0:
        raise ValueError("no station levels to locate from")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("levels and station positions must be finite")
    u = np.zeros_like(p) if level_u_db is None else np.broadcast_to(
        np.asarray(level_u_db, dtype=np.float64), p.shape).copy()
    if np.any(~np.isfinite(u)) or np.any(u < 0):
        raise ValueError("level uncertainties must be finite and >= 0 dB")
    return p, xs, ys, u


def profile_cost(x_m, y_m, levels_dbm, xs_m, ys_m, prior: PathLossPrior = PathLossPrior(), level_u_db=None):
    """D(x, y) at trial positions (arrays of one shape): the profile -2 log-likelihood, A and n profiled out.

    Returns (cost, n, a) arrays of the trial positions' shape."""
    p, xs, ys, u = _check(levels_dbm, xs_m, ys_m, level_u_db)
    return _profile(np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64), p, xs, ys,
                    1.0 / (prior.shadowing_db ** 2 + u ** 2), prior)


def _profile(x, y, p, xs, ys, w, prior):
    shape = np.shape(x)
    xf = np.reshape(x, (-1, 1))
    yf = np.reshape(y, (-1, 1))
    d = np.maximum(np.hypot(xf - xs, yf - ys), prior.min_distance_m)
    big_l = 10.0 * np.log10(d)  # (G, k)
    inv_sn2 = 1.0 / prior.exponent_sd ** 2
    n0 = prior.exponent
    if prior.level_1m_dbm is None:  # A free: centre on the weighted means, n in closed form
        sw = w.sum()
        lbar = big_l @ w / sw
        pc = p - (p @ w) / sw
        lc = big_l - lbar[:, None]
        slp = lc @ (w * pc)
        sll = (lc * lc) @ w
        n = (n0 * inv_sn2 - slp) / (sll + inv_sn2)
        cost = (w * pc * pc).sum() + 2.0 * n * slp + n * n * sll + (n - n0) ** 2 * inv_sn2
        a = (p @ w) / sw + n * lbar
        return cost.reshape(shape), n.reshape(shape), a.reshape(shape)
    # A with a Gaussian prior: the 2x2 normal equations of (A, n) at every trial position
    inv_sa2 = 1.0 / prior.level_1m_sd_db ** 2
    a0 = prior.level_1m_dbm
    sw = w.sum()
    swl = big_l @ w
    swll = (big_l * big_l) @ w
    swp = float(p @ w)
    swlp = big_l @ (w * p)
    a, n = _solve_a_n(sw, swl, swll, swp, swlp, inv_sa2, a0, inv_sn2, n0)
    e = p - a[:, None] + n[:, None] * big_l
    cost = (e * e) @ w + (n - n0) ** 2 * inv_sn2 + (a - a0) ** 2 * inv_sa2
    return cost.reshape(shape), n.reshape(shape), a.reshape(shape)


def _solve_a_n(sw, swl, swll, swp, swlp, inv_sa2, a0, inv_sn2, n0):
    """The 2x2 normal equations of (A, n) from the weighted sums of 1, L, L^2, P and L*P, with Gaussian priors
    A ~ (a0, 1/inv_sa2) and n ~ (n0, 1/inv_sn2) (``inv_sa2`` = 0: A free). Elementwise on arrays; returns (A, n)."""
    m11 = sw + inv_sa2
    m12 = -swl
    m22 = swll + inv_sn2
    r1 = swp + inv_sa2 * a0
    r2 = -swlp + inv_sn2 * n0
    det = m11 * m22 - m12 * m12
    return (r1 * m22 - m12 * r2) / det, (m11 * r2 - m12 * r1) / det


def default_search_half_m(xs_m, ys_m) -> float:
    """Half side of the square search area around the stations' centroid: twice their spread, >= 2 km."""
    xs = np.asarray(xs_m, dtype=np.float64)
    ys = np.asarray(ys_m, dtype=np.float64)
    spread = float(np.max(np.hypot(xs - xs.mean(), ys - ys.mean()))) if xs.size else 0.0
    return max(2000.0, 2.0 * spread)


def locate(levels_dbm, xs_m, ys_m, *, prior: PathLossPrior = PathLossPrior(), level_u_db=None,
           frequency_hz: float | None = None, eirp_range_dbm: tuple[float, float] = (-10.0, 50.0),
           search_half_m: float | None = None, confidence: float = 0.95, bootstrap: int = 200) -> Fix:
    """Locate one transmitter from its levels (dBm, one per station) at station positions (east/north m).

    Three or more stations: maximum-likelihood fix with its likelihood-ratio confidence region. Two: the
    arc-shaped region consistent with the level difference. One: the ring of distances consistent with the
    level for EIRPs in ``eirp_range_dbm`` (needs ``frequency_hz``). ``search_half_m`` bounds the search square
    around the stations' centroid (default :func:`default_search_half_m`). With three or more stations the
    region's threshold is calibrated by a parametric bootstrap of ``bootstrap`` replicates at the estimate
    (:func:`lr_threshold`; 0: Wilks' chi-square(2) quantile). Raises ValueError on bad input.
    """
    p, xs, ys, u = _check(levels_dbm, xs_m, ys_m, level_u_db)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    k = p.size
    if k == 1:
        if frequency_hz is None:
            raise ValueError("a one-station ring needs the frequency (for the 1 m path loss)")
        return _ring(float(p[0]), float(xs[0]), float(ys[0]), float(u[0]), frequency_hz, eirp_range_dbm, prior,
                     confidence)
    w = 1.0 / (prior.shadowing_db ** 2 + u ** 2)
    threshold = -2.0 * math.log(1.0 - confidence)  # chi2 quantile with 2 dof
    cx, cy = float(xs.mean()), float(ys.mean())
    half = float(search_half_m) if search_half_m is not None else default_search_half_m(xs, ys)
    gx = np.linspace(cx - half, cx + half, _COARSE)
    gy = np.linspace(cy - half, cy + half, _COARSE)
    mx, my = np.meshgrid(gx, gy)
    coarse, _, _ = _profile(mx, my, p, xs, ys, w, prior)
    i, j = np.unravel_index(int(np.argmin(coarse)), coarse.shape)
    bx, by = float(gx[j]), float(gy[i])
    best = float(coarse[i, j])
    if k >= 3:  # multi-start: the likelihood of a few stations has several modes, and the best grid point
        # need not lie in the basin of the global maximum; refine every local minimum of the grid that could
        # be it (within the region's threshold of the best grid value) and keep the best refined one
        box = (cx - half, cx + half, cy - half, cy + half)
        for si, sj in _local_minima(coarse, best + threshold):
            x, y, c = _refine(float(gx[sj]), float(gy[si]), float(coarse[si, sj]), p, xs, ys, w, prior, box,
                              step=gx[1] - gx[0])
            if c < best:
                bx, by, best = x, y, c
    if k >= 3 and bootstrap > 0:
        _, n_hat, a_hat = _profile(np.array(bx), np.array(by), p, xs, ys, w, prior)
        threshold = lr_threshold(bx, by, float(a_hat), xs, ys, w, prior, gx, gy, confidence, bootstrap,
                                 seed=int.from_bytes(np.asarray(p, np.float64).tobytes()[-8:], "little"))
    region, bounded, area = _region(coarse, gx, gy, best, threshold, p, xs, ys, w, prior)
    if k == 2:
        return Fix("arc", 2, None, None, region, bounded, confidence, best, 0, None, area_m2=area,
                   notes=("two stations: the region consistent with the level difference, not a position",),
                   threshold=threshold)
    _, n_hat, a_hat = _profile(np.array(bx), np.array(by), p, xs, ys, w, prior)
    # k - 3 degrees of freedom (k levels + the exponent prior, 4 parameters). With k = 3 none is free, yet
    # the geometry bounds the level differences one source can make (two strong stations far apart and a weak
    # one between them are impossible for one source at a plausible exponent): D_min is then tested against
    # one degree of freedom, a conservative stand-in for its unknown null distribution
    dof = k - 3
    from scipy.stats import chi2

    p_value = float(chi2.sf(best, max(dof, 1)))
    crb = crb_position_m2(bx, by, xs, ys, float(n_hat), prior, level_u_db=u)
    return Fix("fix", k, bx, by, region, bounded, confidence, best, dof, p_value, float(n_hat), float(a_hat),
               area, None, float(math.sqrt(max(0.0, np.trace(crb)))), threshold=threshold)


def _profile_many(x, y, levels, xs, ys, w, prior):
    """Profile cost of many level vectors at once, the same (A, n) normal equations as :func:`_profile` (A free:
    zero prior precision). ``levels`` (B, k); ``x``, ``y`` either (G,) trial positions shared by every level
    vector (returns (G, B)) or (B, M) positions per level vector (returns (B, M))."""
    paired = np.ndim(x) == 2
    if paired:
        d = np.maximum(np.hypot(x[:, :, None] - xs, y[:, :, None] - ys), prior.min_distance_m)  # (B, M, k)
    else:
        d = np.maximum(np.hypot(x[:, None] - xs, y[:, None] - ys), prior.min_distance_m)  # (G, k)
    big_l = 10.0 * np.log10(d)
    isa = 0.0 if prior.level_1m_dbm is None else 1.0 / prior.level_1m_sd_db ** 2
    a0 = 0.0 if prior.level_1m_dbm is None else prior.level_1m_dbm
    isn, n0 = 1.0 / prior.exponent_sd ** 2, prior.exponent
    sw = float(w.sum())
    swl = big_l @ w
    swll = (big_l * big_l) @ w
    swp = levels @ w
    swpp = (levels * levels) @ w
    if paired:  # (B, M)
        swlp = np.einsum("bmk,bk->bm", big_l, levels * w)
        swp, swpp = swp[:, None], swpp[:, None]
    else:  # (G, B)
        swlp = (big_l * w) @ levels.T
        swl, swll, swp, swpp = swl[:, None], swll[:, None], swp[None, :], swpp[None, :]
    a, n = _solve_a_n(sw, swl, swll, swp, swlp, isa, a0, isn, n0)
    return (swpp + a * a * sw + n * n * swll - 2 * a * swp + 2 * n * swlp - 2 * a * n * swl
            + (n - n0) ** 2 * isn + (a - a0) ** 2 * isa)


def lr_threshold(x_m: float, y_m: float, level_1m: float, xs, ys, w, prior: PathLossPrior, gx, gy,
                 confidence: float, replicates: int, *, seed: int = 0) -> float:
    """Parametric-bootstrap calibration of the likelihood-ratio region: the ``confidence`` quantile of
    D*(x, y) - min D* over ``replicates`` level vectors drawn from the model at the estimate (transmitter at
    (x, y), level ``level_1m`` at 1 m, exponent drawn from its prior, shadowing and level uncertainty with
    variance 1/w). The minimum is taken on every other point of the search grid ``gx`` x ``gy``, then on a
    9 x 9 grid over the best point's neighbouring cells (the coarse grid alone would understate it).

    Wilks' chi-square(2) quantile assumes a regular model far from its edge; with three stations the model
    is nearly saturated (3 levels, 4 unknowns, the exponent held by its prior) and the statistic is far
    smaller than chi-square(2) (the benchmark measured 99.5 % coverage at 5.99)."""
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(ys, np.float64)
    rng = np.random.default_rng(seed)
    n = rng.normal(prior.exponent, prior.exponent_sd, replicates)
    d = np.maximum(np.hypot(x_m - xs, y_m - ys), prior.min_distance_m)
    sigma = 1.0 / np.sqrt(w)
    levels = level_1m - 10.0 * n[:, None] * np.log10(d)[None, :] + rng.normal(0.0, 1.0, (replicates, xs.size)) * sigma
    gx, gy = np.asarray(gx)[::2], np.asarray(gy)[::2]  # every other search-grid point: the basin, not the value
    mx, my = np.meshgrid(gx, gy)
    grid = _profile_many(mx.ravel(), my.ravel(), levels, xs, ys, w, prior)  # (G, B)
    at = _profile_many(np.array([x_m]), np.array([y_m]), levels, xs, ys, w, prior)[0]
    idx = grid.argmin(axis=0)
    best = grid[idx, np.arange(replicates)]
    f = np.linspace(-1.0, 1.0, 9)
    fx, fy = np.meshgrid(f * (gx[1] - gx[0]), f * (gy[1] - gy[0]))
    # a 9 x 9 grid over each replicate's best cell and its neighbours (the coarse grid would understate D_min)
    local = _profile_many(mx.ravel()[idx][:, None] + fx.ravel(), my.ravel()[idx][:, None] + fy.ravel(), levels,
                          xs, ys, w, prior)
    best = np.minimum(best, local.min(axis=1))
    lr = np.maximum(at - np.minimum(best, at), 0.0)
    return float(np.quantile(lr, confidence))


def _local_minima(z: np.ndarray, below: float, limit: int = 8) -> list[tuple[int, int]]:
    """Grid indices of local minima of ``z`` (<= their 8 neighbours) whose value is below ``below``, best
    first, at most ``limit``."""
    pad = np.pad(z, 1, constant_values=np.inf)
    n0, n1 = z.shape
    is_min = z <= below
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= z <= pad[1 + di:1 + di + n0, 1 + dj:1 + dj + n1]
    rows, cols = np.nonzero(is_min)
    order = np.argsort(z[rows, cols])[:limit]
    return [(int(rows[o]), int(cols[o])) for o in order]


def _refine(bx, by, best, p, xs, ys, w, prior, box, step):
    from scipy.optimize import minimize

    x0, x1, y0, y1 = box

    def f(v):
        x = min(max(v[0], x0), x1)
        y = min(max(v[1], y0), y1)
        return float(_profile(np.array(x), np.array(y), p, xs, ys, w, prior)[0])

    res = minimize(f, np.array([bx, by]), method="Nelder-Mead",
                   options={"xatol": 1.0, "fatol": 1e-6, "initial_simplex": np.array(
                       [[bx, by], [bx + step, by], [bx, by + step]])})
    if res.fun < best:
        return min(max(float(res.x[0]), x0), x1), min(max(float(res.x[1]), y0), y1), float(res.fun)
    return bx, by, best


def _region(coarse, gx, gy, best, threshold, p, xs, ys, w, prior):
    """Polygons of {D - best <= threshold} on a fine grid over the coarse cells inside it (plus one cell)."""
    import contourpy

    inside = coarse - best <= threshold
    step_x, step_y = gx[1] - gx[0], gy[1] - gy[0]
    if inside.any():
        rows, cols = np.nonzero(inside)
        i0, i1 = max(rows.min() - 1, 0), min(rows.max() + 1, gy.size - 1)
        j0, j1 = max(cols.min() - 1, 0), min(cols.max() + 1, gx.size - 1)
        fx = np.linspace(gx[j0], gx[j1], _FINE)
        fy = np.linspace(gy[i0], gy[i1], _FINE)
    else:  # the region is smaller than one coarse cell: look around the estimate
        i, j = np.unravel_index(int(np.argmin(coarse)), coarse.shape)
        fx = np.linspace(gx[j] - step_x, gx[j] + step_x, _FINE)
        fy = np.linspace(gy[i] - step_y, gy[i] + step_y, _FINE)
    mx, my = np.meshgrid(fx, fy)
    z, _, _ = _profile(mx, my, p, xs, ys, w, prior)
    z = z - min(best, float(z.min()))
    gen = contourpy.contour_generator(fx, fy, z, fill_type=contourpy.FillType.OuterOffset)
    points, offsets = gen.filled(-1.0, threshold)
    polygons = []
    area = 0.0
    for pts, offs in zip(points, offsets):
        rings = []
        for r, (a, b) in enumerate(zip(offs[:-1], offs[1:])):
            ring = np.asarray(pts[a:b], dtype=np.float64)
            if ring.shape[0] > 1 and np.allclose(ring[0], ring[-1]):
                ring = ring[:-1]
            if ring.shape[0] < 3:
                continue
            ring_area = abs(_shoelace(ring))
            area += ring_area if r == 0 else -ring_area
            rings.append(ring)
        if rings:
            polygons.append(tuple(rings))
    # the region touches the search edge when the threshold set reaches the coarse grid's border
    bounded = not (inside[0, :].any() or inside[-1, :].any() or inside[:, 0].any() or inside[:, -1].any())
    return tuple(polygons), bool(bounded), float(area)


def _shoelace(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _ring(level, x, y, u, frequency_hz, eirp_range_dbm, prior, confidence):
    """Distances consistent with one level: EIRP in the stated range, n within 2 sd, shadowing within the
    two-sided ``confidence`` quantile."""
    from scipy.stats import norm

    lo_eirp, hi_eirp = sorted(float(v) for v in eirp_range_dbm)
    z = float(norm.ppf(0.5 + confidence / 2))
    s = math.hypot(prior.shadowing_db, u)
    loss_lo = lo_eirp - level - z * s - fspl_1m_db(frequency_hz)  # smallest loss beyond 1 m
    loss_hi = hi_eirp - level + z * s - fspl_1m_db(frequency_hz)
    n_lo = max(1.5, prior.exponent - 2 * prior.exponent_sd)
    n_hi = prior.exponent + 2 * prior.exponent_sd
    cands = [10 ** (loss / (10 * n)) for loss in (loss_lo, loss_hi) for n in (n_lo, n_hi)]
    r_min = max(prior.min_distance_m, min(cands))
    r_max = max(r_min, max(cands))
    t = np.linspace(0, 2 * math.pi, _RING_POINTS, endpoint=False)
    outer = np.column_stack([x + r_max * np.cos(t), y + r_max * np.sin(t)])
    inner = np.column_stack([x + r_min * np.cos(t[::-1]), y + r_min * np.sin(t[::-1])])
    rings = (outer, inner) if r_min > prior.min_distance_m else (outer,)
    area = math.pi * (r_max ** 2 - (r_min ** 2 if len(rings) == 2 else 0.0))
    return Fix("ring", 1, None, None, (rings,), True, confidence, 0.0, 0, None, area_m2=area, ring_m=(r_min, r_max),
               notes=(f"one station: distances {r_min:.0f}-{r_max:.0f} m consistent with the level for EIRP "
                      f"{lo_eirp:g}..{hi_eirp:g} dBm, not a position",))


def crb_position_m2(x_m: float, y_m: float, xs_m, ys_m, exponent: float, prior: PathLossPrior = PathLossPrior(),
                    level_u_db=None) -> np.ndarray:
    """Cramer-Rao bound (2x2, m^2) on an unbiased position estimate for a transmitter at (x, y) with path-loss
    exponent ``exponent``: parameters (x, y, A, n), A unknown, n with the prior's Gaussian information added.

    Fisher information J = G^T W G + diag(0, 0, 1/sa^2, 1/sn^2) (1/sa^2 only with a prior on A) with rows g_i = (dmu/dx, dmu/dy, 1, -10 log10 d_i),
    dmu/dx = -(10 n / ln 10) (x - x_i) / d_i^2. Returns the position block of J^-1 (inf when singular)."""
    xs = np.asarray(xs_m, dtype=np.float64)
    ys = np.asarray(ys_m, dtype=np.float64)
    u = np.zeros_like(xs) if level_u_db is None else np.broadcast_to(np.asarray(level_u_db, float), xs.shape)
    w = 1.0 / (prior.shadowing_db ** 2 + u ** 2)
    dx, dy = x_m - xs, y_m - ys
    d2 = np.maximum(dx * dx + dy * dy, prior.min_distance_m ** 2)
    c = -10.0 * exponent / math.log(10.0)
    g = np.column_stack([c * dx / d2, c * dy / d2, np.ones_like(xs), -5.0 * np.log10(d2)])
    j = g.T @ (g * w[:, None])
    j[3, 3] += 1.0 / prior.exponent_sd ** 2
    if prior.level_1m_dbm is not None:
        j[2, 2] += 1.0 / prior.level_1m_sd_db ** 2
    try:
        inv = np.linalg.inv(j)
    except np.linalg.LinAlgError:
        return np.full((2, 2), np.inf)
    return inv[:2, :2]


def best_split(levels_dbm, xs_m, ys_m, *, prior: PathLossPrior = PathLossPrior(), level_u_db=None,
               search_half_m: float | None = None) -> tuple[tuple[int, ...], tuple[int, ...], float]:
    """The partition of the stations into two non-empty groups whose two single-source fits explain the
    levels best (smallest sum of profile costs on the coarse grid; groups of one or two stations always fit,
    so ties are broken by geographic compactness around each group's strongest station). Returns
    (group_a, group_b, cost). Exhaustive up to 12 stations (2047 partitions); beyond, the stations go to the
    nearer of two seeds (the strongest, and the strongest beyond the median distance from it)."""
    p, xs, ys, u = _check(levels_dbm, xs_m, ys_m, level_u_db)
    k = p.size
    if k < 2:
        raise ValueError("a split needs at least two stations")
    if k > 12:  # too many partitions to try: seed with the strongest station and the strongest one beyond
        # the median distance from it, give every station to the nearer seed
        a0 = int(np.argmax(p))
        d = np.hypot(xs - xs[a0], ys - ys[a0])
        far = np.nonzero(d >= np.median(d))[0]
        b0 = int(far[np.argmax(p[far])])
        to_a = np.hypot(xs - xs[a0], ys - ys[a0]) <= np.hypot(xs - xs[b0], ys - ys[b0])
        a = tuple(int(i) for i in np.nonzero(to_a)[0])
        b = tuple(int(i) for i in np.nonzero(~to_a)[0])
        w = 1.0 / (prior.shadowing_db ** 2 + u ** 2)
        half = float(search_half_m) if search_half_m is not None else default_search_half_m(xs, ys)
        g = np.linspace(-half, half, 41)
        mx, my = np.meshgrid(xs.mean() + g, ys.mean() + g)
        total = sum(float(_profile(mx, my, p[np.array(i)], xs[np.array(i)], ys[np.array(i)], w[np.array(i)], prior)[0].min())
                    for i in (a, b) if len(i) >= 3)
        return a, b, total
    w_all = 1.0 / (prior.shadowing_db ** 2 + u ** 2)
    half = float(search_half_m) if search_half_m is not None else default_search_half_m(xs, ys)
    cx, cy = float(xs.mean()), float(ys.mean())
    g = np.linspace(-half, half, 41)
    mx, my = np.meshgrid(cx + g, cy + g)
    cache: dict[tuple[int, ...], float] = {}

    def cost(idx: tuple[int, ...]) -> float:
        if len(idx) <= 2:
            return 0.0  # two levels always fit one source (on the arc), one level any
        if idx not in cache:
            sel = np.array(idx)
            cache[idx] = float(_profile(mx, my, p[sel], xs[sel], ys[sel], w_all[sel], prior)[0].min())
        return cache[idx]

    def spread(idx: tuple[int, ...]) -> float:
        # metres from each station to its group's strongest station: co-channel emitters are each heard
        # best near their own site, so among equally good fits the geographically compact split wins
        top = max(idx, key=lambda i: p[i])
        return float(sum(math.hypot(xs[i] - xs[top], ys[i] - ys[top]) for i in idx))

    best = None
    rest = tuple(range(1, k))
    for r in range(0, k - 1):
        for combo in itertools.combinations(rest, r):
            a = (0, *combo)
            b = tuple(i for i in range(k) if i not in a)
            key = (round(cost(a) + cost(b), 6), spread(a) + spread(b))
            if best is None or key < best[0]:
                best = (key, a, b)
    return best[1], best[2], best[0][0]


__all__ = ["CHI2_2DOF_95", "Fix", "PathLossPrior", "best_split", "crb_position_m2", "default_search_half_m",
           "locate", "lr_threshold", "profile_cost"]
