"""Location by power difference (station/network/locate.py) and the propagation models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.network import geo
from station.network.locate import PathLossPrior, best_split, crb_position_m2, locate, profile_cost
from station.network.propagation import fspl_1m_db, hata_urban_db, log_distance_db, shadowing_db

SQUARE_X = np.array([-3000.0, 3000.0, 3000.0, -3000.0])
SQUARE_Y = np.array([-3000.0, -3000.0, 3000.0, 3000.0])


def levels(tx, ty, xs, ys, *, a=20.0, n=3.0):
    d = np.maximum(np.hypot(tx - xs, ty - ys), 30.0)
    return a - 10 * n * np.log10(d)


def inside(poly_rings, x, y) -> bool:
    """Even-odd ray casting over every ring of one polygon."""
    hit = False
    for ring in poly_rings:
        xr, yr = ring[:, 0], ring[:, 1]
        xj, yj = np.roll(xr, 1), np.roll(yr, 1)
        cross = ((yr > y) != (yj > y)) & (x < (xj - xr) * (y - yr) / np.where(yj == yr, 1e-30, yj - yr) + xr)
        hit ^= bool(np.count_nonzero(cross) % 2)
    return hit


def test_noiseless_levels_give_the_true_position_inside_a_small_region():
    p = levels(800.0, -1200.0, SQUARE_X, SQUARE_Y)
    fix = locate(p, SQUARE_X, SQUARE_Y, prior=PathLossPrior(shadowing_db=1.0))
    assert fix.kind == "fix" and fix.n_stations == 4
    assert math.hypot(fix.x_m - 800.0, fix.y_m + 1200.0) < 20.0
    assert fix.cost < 1e-3 and fix.p_value > 0.9
    assert abs(fix.exponent - 3.0) < 0.01
    home = [poly for poly in fix.region if inside(poly, 800.0, -1200.0)]
    assert len(home) == 1
    span = home[0][0].max(axis=0) - home[0][0].min(axis=0)
    assert np.all(span < 2500.0) and fix.area_m2 > 0
    # power differences also fit a source far outside the network (big exponent, big EIRP): the region's
    # second piece reaches the search edge and the fix says so
    assert not fix.region_bounded
    assert fix.crb_m is not None and fix.crb_m > 0


def test_profile_cost_equals_a_numerical_minimum_over_eirp_and_exponent():
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    p = levels(500.0, 700.0, SQUARE_X, SQUARE_Y) + rng.normal(0, 6, 4)
    prior = PathLossPrior(exponent=3.2, exponent_sd=0.4, shadowing_db=5.0)
    u = np.array([1.0, 2.0, 0.5, 0.0])
    x, y = -400.0, 1500.0
    big_l = 10 * np.log10(np.hypot(x - SQUARE_X, y - SQUARE_Y))
    w = 1 / (prior.shadowing_db ** 2 + u ** 2)

    def f(v):
        a, n = v
        return float(np.sum(w * (p - a + n * big_l) ** 2) + (n - prior.exponent) ** 2 / prior.exponent_sd ** 2)

    brute = minimize(f, [0.0, 3.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}).fun
    cost, _, _ = profile_cost(x, y, p, SQUARE_X, SQUARE_Y, prior, level_u_db=u)
    assert float(cost) == pytest.approx(brute, rel=1e-6)


def test_two_stations_give_an_arc_region_not_a_position():
    xs, ys = SQUARE_X[:2], SQUARE_Y[:2]
    fix = locate(levels(0.0, -1000.0, xs, ys), xs, ys)
    assert fix.kind == "arc" and fix.x_m is None and fix.y_m is None
    assert fix.region and any(inside(poly, 0.0, -1000.0) for poly in fix.region)
    assert "not a position" in fix.notes[0]


def test_one_station_gives_a_ring_of_consistent_distances():
    f_hz = 150e6
    eirp = 30.0
    d_true = 2500.0
    level = eirp - float(log_distance_db(d_true, f_hz, 3.0))
    fix = locate([level], [0.0], [0.0], frequency_hz=f_hz, eirp_range_dbm=(20.0, 40.0))
    assert fix.kind == "ring" and fix.x_m is None
    r_min, r_max = fix.ring_m
    assert r_min < d_true < r_max
    with pytest.raises(ValueError, match="frequency"):
        locate([level], [0.0], [0.0])


def test_two_co_channel_sources_fail_the_fit_and_split_by_district():
    # one source in the south-west district (near station 0), one in the north-east (near station 2);
    # every station receives the power sum of both, dominated by the nearer
    sw = levels(-2600.0, -2500.0, SQUARE_X, SQUARE_Y, a=25.0)
    ne = levels(2500.0, 2700.0, SQUARE_X, SQUARE_Y, a=25.0)
    p = 10 * np.log10(10 ** (sw / 10) + 10 ** (ne / 10))
    single = locate(p, SQUARE_X, SQUARE_Y)
    assert single.p_value is not None and single.p_value < 1e-3
    a, b, _ = best_split(p, SQUARE_X, SQUARE_Y)
    assert {len(a), len(b)} <= {1, 2, 3} and (0 in a) != (2 in a)


def test_rms_error_approaches_the_cramer_rao_bound_at_small_shadowing():
    """Asymptotic efficiency: with 0.5 dB shadowing the ML estimate's RMS error is close to the bound (at 6 dB
    the likelihood has far-off secondary modes: benchmarks/locate.py measures that regime)."""
    rng = np.random.default_rng(11)
    prior = PathLossPrior(shadowing_db=0.5, exponent_sd=0.3)
    xs = 3000.0 * np.cos(np.arange(6) * math.pi / 3)
    ys = 3000.0 * np.sin(np.arange(6) * math.pi / 3)
    tx, ty = 600.0, -400.0
    err2 = []
    for _ in range(60):
        n = rng.normal(3.0, 0.3)
        p = levels(tx, ty, xs, ys, n=n) + rng.normal(0, 0.5, 6)
        fix = locate(p, xs, ys, prior=prior)
        err2.append((fix.x_m - tx) ** 2 + (fix.y_m - ty) ** 2)
    bound = math.sqrt(np.trace(crb_position_m2(tx, ty, xs, ys, 3.0, prior)))
    ratio = math.sqrt(np.mean(err2)) / bound
    assert 0.6 < ratio < 1.5


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="same length"):
        locate([1.0, 2.0], [0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        locate([1.0, math.nan, 2.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="no station"):
        locate([], [], [])
    with pytest.raises(ValueError, match="shadowing_db"):
        PathLossPrior(shadowing_db=0.0)


def test_propagation_models_match_published_values():
    assert fspl_1m_db(150e6) == pytest.approx(15.96, abs=0.01)
    # Okumura-Hata, 900 MHz, base 30 m, mobile 1.5 m, 1 km: 126.4 dB (textbook value)
    assert float(hata_urban_db(1000.0, 900e6, 30.0, 1.5)) == pytest.approx(126.42, abs=0.05)
    # slope per decade = 44.9 - 6.55 log10(30)
    slope = float(hata_urban_db(10000.0, 900e6, 30.0, 1.5) - hata_urban_db(1000.0, 900e6, 30.0, 1.5))
    assert slope == pytest.approx(44.9 - 6.55 * math.log10(30.0), abs=1e-9)
    assert float(log_distance_db(100.0, 150e6, 3.0)) == pytest.approx(fspl_1m_db(150e6) + 60.0)


def test_shadowing_is_a_pure_function_of_seed_station_and_transmitter():
    a = shadowing_db(1, "hn-n", "rogue", 6.0)
    assert a == shadowing_db(1, "hn-n", "rogue", 6.0)
    assert a != shadowing_db(1, "hn-s", "rogue", 6.0)
    assert a != shadowing_db(2, "hn-n", "rogue", 6.0)
    draws = np.array([shadowing_db(0, f"st{i}", "tx", 6.0) for i in range(2000)])
    assert abs(draws.mean()) < 0.5 and abs(draws.std() - 6.0) < 0.4
    assert shadowing_db(0, "a", "b", 0.0) == 0.0


def test_local_plane_round_trips_and_agrees_with_haversine():
    lat0, lon0 = 21.0285, 105.8542
    x, y = geo.to_local(21.06, 105.80, lat0, lon0)
    lat, lon = geo.to_geo(x, y, lat0, lon0)
    assert float(lat) == pytest.approx(21.06, abs=1e-9) and float(lon) == pytest.approx(105.80, abs=1e-9)
    assert math.hypot(float(x), float(y)) == pytest.approx(geo.distance_m(lat0, lon0, 21.06, 105.80), rel=1e-3)


def test_the_global_maximum_is_found_when_the_best_grid_point_lies_in_another_mode():
    """Noiseless levels of four stations in a diamond: a secondary mode 4.4 km away held the best grid point;
    every grid local minimum is refined (multi-start) and the truth wins."""
    xs = np.array([0.0, 3000.0, 0.0, -3000.0])
    ys = np.array([3002.0, 0.0, -3002.0, 0.0])
    tx, ty = 810.0, 1279.0
    p = levels(tx, ty, xs, ys)
    fix = locate(p, xs, ys, prior=PathLossPrior(shadowing_db=2.0), level_u_db=1.0)
    assert math.hypot(fix.x_m - tx, fix.y_m - ty) < 20.0


def test_the_region_threshold_is_bootstrapped_small_for_three_stations_and_wilks_for_many():
    from station.network.locate import CHI2_2DOF_95, lr_threshold

    prior = PathLossPrior(shadowing_db=6.0)
    g = np.linspace(-6000, 6000, 81)
    ang3 = np.arange(3) * 2 * math.pi / 3
    w3 = np.full(3, 1 / 36)
    t3 = lr_threshold(300.0, -200.0, 0.0, 3000 * np.cos(ang3), 3000 * np.sin(ang3), w3, prior, g, g, 0.95, 400)
    assert t3 < CHI2_2DOF_95 - 0.5  # nearly saturated model: the statistic is smaller than chi-square(2)
    # many stations, little shadowing: a regular model, Wilks' quantile holds
    ang = np.arange(12) * 2 * math.pi / 12
    small = PathLossPrior(shadowing_db=0.5, exponent_sd=0.3)
    t12 = lr_threshold(300.0, -200.0, 0.0, 3000 * np.cos(ang), 3000 * np.sin(ang), np.full(12, 4.0), small, g, g,
                       0.95, 400)
    assert abs(t12 - CHI2_2DOF_95) < 1.2
