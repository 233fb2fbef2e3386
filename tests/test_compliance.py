"""Compliance checker: the simulated city's expected classes, each rule on its own, the interval index
against a brute-force scan, designators."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from station.compliance.checker import ComplianceChecker, ComplianceParams
from station.compliance.designator import format_bandwidth, parse_designator
from station.compliance.frequency_index import FrequencyIndex
from detectors.records import Emission, Track
from station.compliance.records import Assignment, ComplianceClass, ExemptBand
from station.compliance.register import builtin_path, load_exempt_bands_strict, load_register

T = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
HANOI = (21.0285, 105.8542)

#: docs/DESIGN.md's simulated city: id, MHz, occupied bandwidth, expected class
CITY = [
    ("fm-vov1", 90.0, 200e3, "licensed"), ("fm-vov2", 94.0, 200e3, "licensed"),
    ("fm-hanoi", 96.0, 200e3, "licensed"), ("fm-vov3", 104.5, 200e3, "licensed"),
    ("fm-pirate", 106.9, 180e3, "unlicensed"), ("air-twr", 118.1, 6e3, "licensed"),
    ("air-app", 125.5, 6e3, "licensed"), ("ham-2m", 145.5, 11e3, "exempt"),
    ("rogue-vhf", 147.25, 11e3, "unlicensed"), ("lmr-taxi", 150.125, 11e3, "licensed"),
    ("lmr-dmr", 152.45, 7.6e3, "licensed"), ("lmr-wide", 155.5, 40e3, "excess_bandwidth"),
    ("lmr-expired", 158.2, 11e3, "expired"), ("dab-12c", 223.936, 1.536e6, "licensed"),
    ("ham-70cm", 435.0, 11e3, "exempt"), ("ism-fob", 433.92, 20e3, "exempt"),
    ("ism-sensor", 433.87, 10e3, "exempt"), ("pmr446", 446.00625, 11e3, "exempt"),
    ("lmr-uhf", 451.2, 11e3, "licensed"), ("lmr-uhf-dmr", 455.3, 7.6e3, "licensed"),
    ("lmr-offfreq", 453.0435, 11e3, "off_frequency"), ("lmr-future", 457.6, 11e3, "not_yet_valid"),
    ("rogue-uhf", 462.8, 7.6e3, "unlicensed"),
]


def em(f_hz: float, bw_hz: float, *, when: datetime = T, artifact: bool = False, center_hz: float | None = None):
    c = f_hz if center_hz is None else center_hz
    return Emission(
        center_hz=c, peak_hz=c, f_lo_hz=f_hz - bw_hz / 2, f_hi_hz=f_hz + bw_hz / 2, bandwidth_hz=bw_hz,
        xdb_bandwidth_hz=None, xdb_valid=False, power_dbfs=-40.0, peak_dbfs=-45.0, snr_db=30.0,
        noise_dbfs_hz=-130.0, occupancy=1.0, first_seen=when, last_seen=when, artifact=artifact,
    )


@pytest.fixture(scope="module")
def city_checker():
    reg = load_register(builtin_path("demo_register.csv"))
    assert reg.problems == ()
    return ComplianceChecker(reg.assignments, load_exempt_bands_strict(), HANOI, 30_000.0, 1.0)


def test_simulated_city_gives_exactly_the_expected_classes(city_checker):
    results = city_checker.check([em(f * 1e6, bw) for _, f, bw, _ in CITY], T)
    got = {name: r.klass.value for (name, *_), r in zip(CITY, results)}
    assert got == {name: klass for name, _, _, klass in CITY}
    by = dict(zip([c[0] for c in CITY], results))
    assert by["fm-vov1"].licences[0] == "BC-VOV1-0090"
    assert by["lmr-offfreq"].licences == ("LM-PORT-453037",)
    assert by["lmr-offfreq"].offset_hz == pytest.approx(6000.0, abs=1)
    assert by["lmr-offfreq"].tolerance_hz == 2500.0 and not by["lmr-offfreq"].indicative
    assert "+6.00 kHz from LM-PORT-453037" in by["lmr-offfreq"].reason
    assert by["lmr-expired"].reason.endswith("but valid to 2025-12-31")
    assert by["lmr-future"].reason.endswith("but valid from 2027-06-01")
    assert "40.00 kHz exceeds 1.5 x the necessary 11.00 kHz" in by["lmr-wide"].reason
    assert by["lmr-wide"].necessary_bandwidth_hz == 11e3
    assert by["ism-fob"].exempt_band == "ISM 433"  # the narrowest band, not amateur 70 cm
    assert by["pmr446"].exempt_band == "PMR446"
    assert by["ham-2m"].exempt_band == "Amateur 2 m"
    # the pirate is named against the out-of-area 106.9 MHz licence in Ho Chi Minh City
    assert "out of area" in by["fm-pirate"].reason and "km away" in by["fm-pirate"].reason
    for r in results:
        assert r.reason and r.emission.center_hz > 0


def test_pmr446_channel_1_on_the_band_edge_is_exempt(city_checker):
    # as measured on sim://city: 12.2 kHz occupied, the lower 99 % edge 1 kHz below 446.000 MHz
    e = replace(em(446.0059e6, 12.2e3), f_lo_hz=445.9990e6, f_hi_hz=446.0112e6)
    (r,) = city_checker.check([e], T)
    assert r.klass is ComplianceClass.EXEMPT and r.exempt_band == "PMR446"


def test_measured_offsets_within_the_margin_stay_licensed(city_checker):
    # centroid errors of a modulated signal: 2 % of an FM channel, 300 Hz on an NBFM channel
    results = city_checker.check([em(90.004e6, 200e3), em(150.125e6 + 2700, 11e3)], T)
    assert [r.klass for r in results] == [ComplianceClass.LICENSED, ComplianceClass.LICENSED]


def _one(*assignments, bands=(), position=HANOI, ppm=0.0, params=None):
    return ComplianceChecker(list(assignments), list(bands), position, 30_000.0, ppm, params)


A = Assignment(
    licence="L1", licensee="Holder", service="land mobile", station_name="base", center_hz=150.0e6,
    designator="11K0F3E", necessary_bandwidth_hz=11e3, tolerance_hz=1000.0, latitude_deg=21.03, longitude_deg=105.85,
    radius_m=10_000.0, valid_from=datetime(2020, 1, 1, tzinfo=timezone.utc),
    valid_to=datetime(2030, 1, 1, tzinfo=timezone.utc),
)


def _replace(a: Assignment, **kw) -> Assignment:
    from dataclasses import replace

    return replace(a, **kw)


@pytest.mark.parametrize(
    "f_hz, bw_hz, when, expected",
    [
        (150.0e6, 11e3, T, ComplianceClass.LICENSED),
        (150.0e6 + 1500, 11e3, T, ComplianceClass.LICENSED),  # inside tolerance + margin (5 % of 11 kHz)
        (150.0e6 + 1600, 11e3, T, ComplianceClass.OFF_FREQUENCY),
        (150.0e6 - 6000, 11e3, T, ComplianceClass.OFF_FREQUENCY),  # centre still inside the channel
        (150.0e6 + 7000, 11e3, T, ComplianceClass.UNLICENSED),  # centre outside channel + tolerance
        (150.0e6, 16.4e3, T, ComplianceClass.LICENSED),
        (150.0e6, 16.6e3, T, ComplianceClass.EXCESS_BANDWIDTH),
        (150.0e6, 11e3, datetime(2030, 1, 1, 0, 0, 1, tzinfo=timezone.utc), ComplianceClass.EXPIRED),
        (150.0e6, 11e3, datetime(2019, 12, 31, 23, 59, tzinfo=timezone.utc), ComplianceClass.NOT_YET_VALID),
    ],
)
def test_each_rule(f_hz, bw_hz, when, expected):
    (r,) = _one(A).check([em(f_hz, bw_hz, when=when)], when)
    assert r.klass is expected, r.reason
    if expected is not ComplianceClass.UNLICENSED:
        assert r.licences == ("L1",)


def test_when_defaults_to_last_seen():
    late = datetime(2031, 1, 1, tzinfo=timezone.utc)
    (r,) = _one(A).check([em(150e6, 11e3, when=late)])
    assert r.klass is ComplianceClass.EXPIRED


@pytest.mark.parametrize("status, expected", [("expired", "expired"), ("cancelled", "expired"),
                                              ("suspended", "expired"), ("pending", "not_yet_valid")])
def test_status_overrides_dates(status, expected):
    (r,) = _one(_replace(A, status=status)).check([em(150e6, 11e3)], T)
    assert r.klass.value == expected and f"licence status is {status}" in r.reason


def test_a_valid_licence_wins_over_an_expired_twin():
    old = _replace(A, licence="L0", valid_to=datetime(2021, 1, 1, tzinfo=timezone.utc))
    (r,) = _one(old, A).check([em(150e6, 11e3)], T)
    assert r.klass is ComplianceClass.LICENSED and r.licences[0] == "L1" and "L0" in r.licences


def test_nearest_assignment_decides_the_violation():
    far_off = _replace(A, licence="FAR", center_hz=150.0e6 + 4000)  # 4 kHz away -> off frequency
    expired = _replace(A, licence="EXP", center_hz=150.0e6 + 6500, valid_to=datetime(2022, 1, 1, tzinfo=timezone.utc))
    (r,) = _one(far_off, expired).check([em(150.0e6 + 6400, 11e3)], T)
    assert r.klass is ComplianceClass.EXPIRED and r.licences[0] == "EXP"


def test_out_of_area_assignment_does_not_license():
    far = _replace(A, latitude_deg=10.82, longitude_deg=106.63)  # Ho Chi Minh City, ~1100 km
    (r,) = _one(far).check([em(150e6, 11e3)], T)
    assert r.klass is ComplianceClass.UNLICENSED
    assert "out of area: L1 site 11" in r.reason
    # within radius + monitoring range (10 km + 30 km) it is considered
    near = _replace(A, latitude_deg=HANOI[0] + 0.3, longitude_deg=HANOI[1])  # ~33 km north
    assert _one(near).check([em(150e6, 11e3)], T)[0].klass is ComplianceClass.LICENSED
    # a site-less (nationwide) assignment is always considered; no station position: everything in area
    assert _one(_replace(far, latitude_deg=None, longitude_deg=None)).check([em(150e6, 11e3)], T)[0].klass.value == "licensed"
    assert _one(far, position=None).check([em(150e6, 11e3)], T)[0].klass.value == "licensed"


def test_indicative_off_frequency():
    tight = _replace(A, tolerance_hz=None, tolerance_ppm=1.5)  # 225 Hz at 150 MHz
    (r,) = _one(tight, ppm=5.0).check([em(150.0e6 + 2000, 11e3)], T)
    assert r.klass is ComplianceClass.OFF_FREQUENCY and r.indicative
    assert "receiver's frequency uncertainty +/-0.75 kHz (5 ppm) exceeds the tolerance" in r.reason
    (r,) = _one(A, ppm=5.0).check([em(150.0e6 + 1900, 11e3)], T)  # 1.9 kHz - 0.75 kHz <= 1 kHz + 0.3 kHz
    assert r.klass is ComplianceClass.OFF_FREQUENCY and r.indicative and "could explain" in r.reason
    (r,) = _one(A, ppm=0.5).check([em(150.0e6 + 3000, 11e3)], T)
    assert r.klass is ComplianceClass.OFF_FREQUENCY and not r.indicative


def test_block_assignment():
    block = Assignment(licence="MB", licensee="Operator", service="mobile", station_name="", center_hz=939.1e6,
                       channel_width_hz=8e6, tolerance_hz=50.0, block=True)
    chk = _one(block)
    assert chk.check([em(936e6, 200e3)], T)[0].klass is ComplianceClass.LICENSED
    assert chk.check([em(935.15e6, 200e3)], T)[0].klass is ComplianceClass.OFF_FREQUENCY  # leaves the block
    assert chk.check([em(939.1e6, 12.1e6)], T)[0].klass is ComplianceClass.EXCESS_BANDWIDTH


def test_exempt_band_limits():
    cb = ExemptBand("CB", 26.965e6, 27.405e6, max_bandwidth_hz=10e3)
    chk = _one(bands=[cb])
    assert chk.check([em(27.185e6, 8e3)], T)[0].klass is ComplianceClass.EXEMPT
    (wide,) = chk.check([em(27.185e6, 20e3)], T)
    # a device in an exempt band over its limits is exempt_nonconforming, never "unlicensed" (issue 12)
    assert wide.klass is ComplianceClass.EXEMPT_NONCONFORMING and "exceeds its limit 10.00 kHz" in wide.reason
    (edge,) = chk.check([em(27.403e6, 8e3)], T)
    assert edge.klass is ComplianceClass.EXEMPT_NONCONFORMING and "leaves it" in edge.reason
    # with the measurement's uncertainty: over the limit by less than it is indicative, by more is asserted
    (near,) = chk.check([em(27.185e6, 11e3)], T, u95=[(300.0, 2e3)])
    assert near.klass is ComplianceClass.EXEMPT_NONCONFORMING and near.indicative and "indicative" in near.reason
    (far,) = chk.check([em(27.185e6, 14e3)], T, u95=[(300.0, 2e3)])
    assert far.klass is ComplianceClass.EXEMPT_NONCONFORMING and not far.indicative


def test_uncertainty_decides_indicative_and_widens_the_channel():
    a = Assignment(licence="L", licensee="X", service="land mobile", station_name="", center_hz=150.0e6,
                   designator="11K0F3E", necessary_bandwidth_hz=11e3, tolerance_hz=1500.0)
    chk = _one(a)
    (r,) = chk.check([em(150.0e6 + 1800, 11e3)], T, u95=[(500.0, 1e3)])  # 300 Hz beyond, U 500 Hz
    assert r.klass is ComplianceClass.OFF_FREQUENCY and r.indicative
    (r,) = chk.check([em(150.0e6 + 2600, 11e3)], T, u95=[(500.0, 1e3)])  # 1100 Hz beyond
    assert r.klass is ComplianceClass.OFF_FREQUENCY and not r.indicative
    (r,) = chk.check([em(150.0e6 + 1200, 11e3)], T, u95=[(500.0, 1e3)])  # just inside its tolerance
    assert r.klass is ComplianceClass.LICENSED
    (r,) = chk.check([em(150.0e6, 17.0e3)], T, u95=[(200.0, 1e3)])  # 0.5 kHz over 16.5 kHz, U 1 kHz
    assert r.klass is ComplianceClass.EXCESS_BANDWIDTH and r.indicative
    (r,) = chk.check([em(150.0e6, 18.2e3)], T, u95=[(200.0, 1e3)])
    assert r.klass is ComplianceClass.EXCESS_BANDWIDTH and not r.indicative



def test_a_limit_tighter_than_the_measurement_is_judged_only_beyond_limit_plus_uncertainty():
    """A DAB multiplex's 10 Hz tolerance against the +/-17 kHz centroid of a 1.5 MHz block: the station cannot
    judge that tolerance, so a small offset is no finding at all (not an indicative case); only an offset beyond
    tolerance + U is, and then it is asserted."""
    dab = Assignment(licence="D", licensee="X", service="broadcasting DAB", station_name="", center_hz=223.936e6,
                     designator="1M54G7E", necessary_bandwidth_hz=1.536e6, tolerance_hz=10.0)
    chk = _one(dab)
    (r,) = chk.check([em(223.936e6 - 1.8e3, 1.52e6)], T, u95=[(17e3, 40e3)])
    assert r.klass is ComplianceClass.LICENSED, r.reason
    (r,) = chk.check([em(223.936e6 - 30e3, 1.52e6)], T, u95=[(17e3, 40e3)])
    assert r.klass is ComplianceClass.OFF_FREQUENCY and not r.indicative, r.reason
    # a bandwidth limit the measurement can resolve keeps its indicative zone
    (r,) = chk.check([em(223.936e6, 2.32e6)], T, u95=[(17e3, 40e3)])  # 16 kHz over 1.5 x 1.536 MHz
    assert r.klass is ComplianceClass.EXCESS_BANDWIDTH and r.indicative, r.reason

def test_licensed_beats_exempt_and_exempt_beats_a_violation():
    band = ExemptBand("ISM", 433.05e6, 434.79e6)
    lic = _replace(A, center_hz=433.5e6)
    assert _one(lic, bands=[band]).check([em(433.5e6, 11e3)], T)[0].klass is ComplianceClass.LICENSED
    expired = _replace(lic, valid_to=datetime(2021, 1, 1, tzinfo=timezone.utc))
    (r,) = _one(expired, bands=[band]).check([em(433.5e6, 11e3)], T)
    assert r.klass is ComplianceClass.EXEMPT and r.licences == ("L1",)


def test_tracks_artifacts_and_empty_input():
    chk = _one(A)
    e = em(150e6, 11e3)
    track = Track(track_id="trk-1", center_hz=150e6, bandwidth_hz=11e3, first_seen=T, last_seen=T, n_obs=3,
                  n_revisits=3, max_power_dbfs=-40, mean_power_dbfs=-41, last=e)
    spike = em(150e6, 1e3, artifact=True)
    results = chk.check([track, spike, e], T)
    assert [(r.track_id, r.klass.value) for r in results] == [("trk-1", "licensed"), (None, "licensed")]
    judged = ComplianceChecker([A], params=ComplianceParams(judge_artifacts=True)).check([spike], T)
    assert len(judged) == 1
    assert chk.check([], T) == []
    assert ComplianceChecker([]).check([e], T)[0].klass is ComplianceClass.UNLICENSED
    with pytest.raises(TypeError, match="Emission or Track"):
        chk.check(["150e6"], T)
    with pytest.raises(ValueError, match="timezone-aware"):
        chk.check([e], datetime(2026, 1, 1))
    with pytest.raises(ValueError, match=r"emission 1 has non-finite or inverted frequencies: center_hz=nan"):
        chk.check([e, replace(e, center_hz=float("nan"))], T)


def test_assignments_near(city_checker):
    names = [a.licence for a in city_checker.assignments_near(453.0e6, 453.1e6)]
    assert "LM-PORT-453037" in names
    assert all(452.9e6 < a.center_hz < 453.2e6 for a in city_checker.assignments_near(453.0e6, 453.1e6))


def test_frequency_index_matches_brute_force():
    rng = np.random.default_rng(5)
    n = 3000
    lo = rng.uniform(100e6, 200e6, n)
    width = np.concatenate([rng.uniform(0, 30e3, n - 30), rng.uniform(1e6, 20e6, 30)])
    hi = lo + width
    index = FrequencyIndex(lo, hi)
    q_lo = rng.uniform(95e6, 205e6, 500)
    q_hi = q_lo + rng.uniform(0, 200e3, 500)
    qi, ai = index.query(q_lo, q_hi)
    got = set(zip(qi.tolist(), ai.tolist()))
    want = {(q, i) for q in range(500) for i in np.flatnonzero((lo <= q_hi[q]) & (hi >= q_lo[q])).tolist()}
    assert got == want and len(got) == len(qi)
    assert index.overlapping(150e6, 150e6).tolist() == sorted(np.flatnonzero((lo <= 150e6) & (hi >= 150e6)).tolist())
    with pytest.raises(ValueError, match="hi_hz >= lo_hz"):
        FrequencyIndex(np.array([2.0]), np.array([1.0]))


def test_params_validation():
    with pytest.raises(ValueError, match="excess_bandwidth_factor"):
        ComplianceParams(excess_bandwidth_factor=0.5)
    with pytest.raises(ValueError, match="monitoring_range_m"):
        ComplianceChecker([], monitoring_range_m=-1)


# ---- designators -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, bandwidth_hz, klass",
    [
        ("16K0F3E", 16e3, "F3E"), ("11K0F3E", 11e3, "F3E"), ("7K60FXE", 7.6e3, "FXE"), ("2K40J3E", 2.4e3, "J3E"),
        ("6M25C7W", 6.25e6, "C7W"), ("400HA1A", 400.0, "A1A"), ("180KF8EHF", 180e3, "F8EHF"),
        ("1M54G7E", 1.54e6, "G7E"), ("H002N0N", 0.002, "N0N"), ("25H3A1A", 25.3, "A1A"), ("12K5F3E", 12.5e3, "F3E"),
        (" 16k0f3e ", 16e3, "F3E"), ("F3E", None, "F3E"), ("H3E", None, "H3E"),
    ],
)
def test_designators(text, bandwidth_hz, klass):
    d = parse_designator(text)
    assert d.necessary_bandwidth_hz == (pytest.approx(bandwidth_hz) if bandwidth_hz else None)
    assert d.emission_class == klass
    if bandwidth_hz:
        assert format_bandwidth(bandwidth_hz) == d.text[:4]


def test_designator_symbols_described():
    d = parse_designator("180KF8EHF")
    assert (d.modulation, d.signal, d.information, d.details, d.multiplexing) == ("F", "8", "E", "H", "F")
    assert d.describe().startswith("frequency modulation; two or more channels of analogue information; telephony")


@pytest.mark.parametrize(
    "text, message",
    [
        ("16X0F3E", "character 3 'X' is not a digit or a unit letter"),
        ("016KF3E", "character 1 '0' cannot start the bandwidth"),
        ("K160F3E", "character 1 'K' cannot start the bandwidth"),
        ("16KK0F3E", "character 4 'K' is a second unit letter"),
        ("16K0Z3E", "character 5 'Z' is not a valid type of modulation symbol"),
        ("16K0F5E", "character 6 '5' is not a valid nature of modulating signal symbol"),
        ("16K0F3Q", "character 7 'Q' is not a valid type of information symbol"),
        ("180KF8EZ", "character 8 'Z' is not a valid details of signal symbol"),
        ("180KF8EHZ", "character 9 'Z' is not a valid nature of multiplexing symbol"),
        ("16K0F3EHFX", "has 10 characters; expected 7 to 9"),
        ("1234F3E", "has no unit letter"),
        ("", "is empty"),
    ],
)
def test_malformed_designators(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_designator(text)
    with pytest.raises(ValueError, match="has no necessary bandwidth"):
        parse_designator("F3E", require_bandwidth=True)




def test_bandwidth_codes_round_trip():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.floats(min_value=0.001, max_value=999e9, allow_nan=False, allow_infinity=False))
    def check(hz):
        code = format_bandwidth(hz)
        back = parse_designator(code + "F3E").necessary_bandwidth_hz
        assert len(code) == 4 and back == pytest.approx(hz, rel=6e-3, abs=1e-3)

    check()


def _reference_class(chk: ComplianceChecker, e: Emission, when: datetime) -> str:
    """The rules of docs/REGISTER.md written plainly, one emission at a time over every assignment."""
    import math

    p = chk.params
    margin = max(p.measurement_margin_hz, p.measurement_margin_fraction * e.bandwidth_hz)
    candidates = []
    for i, a in enumerate(chk.assignments):
        tol = a.frequency_tolerance_hz
        if not (a.f_lo_hz - tol <= e.center_hz <= a.f_hi_hz + tol):
            continue
        if a.has_site and chk.station_position is not None:
            from station.compliance.checker import haversine_m

            d = float(haversine_m(*chk.station_position, np.array([a.latitude_deg]), np.array([a.longitude_deg]))[0])
            if d > (a.radius_m or 0.0) + chk.monitoring_range_m:
                continue
        if a.status in ("expired", "cancelled", "suspended") or (a.valid_to and when > a.valid_to):
            code = "expired"
        elif a.status == "pending" or (a.valid_from and when < a.valid_from):
            code = "not_yet_valid"
        else:
            excess = a.bandwidth_hz > 0 and e.bandwidth_hz > a.bandwidth_hz * p.excess_bandwidth_factor
            if a.block:
                off = e.f_lo_hz < a.f_lo_hz - tol - margin or e.f_hi_hz > a.f_hi_hz + tol + margin
                code = "excess_bandwidth" if excess else ("off_frequency" if off else "licensed")
            else:
                off = abs(e.center_hz - a.center_hz) > tol + margin
                code = "off_frequency" if off else ("excess_bandwidth" if excess else "licensed")
        candidates.append((abs(e.center_hz - a.center_hz), code))
    if any(code == "licensed" for _, code in candidates):
        return "licensed"
    bands = [b for b in chk.exempt_bands if b.f_lo_hz <= e.center_hz <= b.f_hi_hz]
    if bands:
        b = min(bands, key=lambda x: x.f_hi_hz - x.f_lo_hz)
        edge = max(margin, p.band_edge_margin_fraction * e.bandwidth_hz)
        if (e.f_lo_hz >= b.f_lo_hz - edge and e.f_hi_hz <= b.f_hi_hz + edge
                and e.bandwidth_hz <= (b.max_bandwidth_hz or math.inf)):
            return "exempt"
    if candidates:
        order = ["licensed", "excess_bandwidth", "off_frequency", "not_yet_valid", "expired"]
        return min(candidates, key=lambda c: (c[0], order.index(c[1])))[1]
    return "unlicensed"


def test_fast_checker_agrees_with_a_plain_reference():
    rng = np.random.default_rng(3)
    assignments = []
    for k in range(1500):
        block = rng.random() < 0.05
        centre = float(rng.choice([150e6, 151e6, 433e6, 446e6]) + rng.integers(-80, 80) * 12.5e3)
        lat = None if rng.random() < 0.2 else HANOI[0] + float(rng.normal(0, 0.6))
        y0 = int(rng.integers(2018, 2028))
        assignments.append(Assignment(
            licence=f"R{k}", licensee="x", service="s", station_name="", center_hz=centre,
            necessary_bandwidth_hz=None if block else float(rng.choice([6e3, 7.6e3, 11e3, 16e3])),
            channel_width_hz=float(rng.choice([200e3, 1e6])) if block else None, block=block,
            tolerance_hz=float(rng.choice([0.0, 500.0, 2500.0])),
            latitude_deg=lat, longitude_deg=None if lat is None else HANOI[1] + float(rng.normal(0, 0.6)),
            radius_m=None if lat is None else float(rng.choice([0.0, 10e3, 50e3])),
            valid_from=datetime(y0, 1, 1, tzinfo=timezone.utc), valid_to=datetime(y0 + 3, 1, 1, tzinfo=timezone.utc),
            status=str(rng.choice(["current"] * 8 + ["expired", "pending", "suspended"])),
        ))
    bands = [ExemptBand("ISM", 433.05e6, 434.79e6), ExemptBand("PMR", 446.0e6, 446.2e6, max_bandwidth_hz=12.5e3),
             ExemptBand("wide", 430e6, 440e6)]
    chk = ComplianceChecker(assignments, bands, HANOI, 30_000.0, 1.0)
    emissions = []
    for _ in range(1500):
        c = float(rng.choice([a.center_hz for a in assignments]) + rng.normal(0, 4e3))
        bw = float(rng.choice([5e3, 8e3, 11e3, 20e3, 40e3]))
        skew = float(rng.normal(0, 1e3))
        emissions.append(replace(em(c, bw), f_lo_hz=c - bw / 2 + skew, f_hi_hz=c + bw / 2 + skew))
    got = [r.klass.value for r in chk.check(emissions, T)]
    want = [_reference_class(chk, e, T) for e in emissions]
    assert got == want
    assert len(set(got)) == 7  # every class occurs, so every rule was exercised
