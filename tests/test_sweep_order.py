"""The hop order of a dwell sweep (station.sweep.sweep_band ``first_hop``): hops are visited from the first
hop on, wrapping around, and stitched by hop index whatever the order; the pipeline draws the first hop at
random for each sweep (de-aliasing against periodic burst transmitters, docs/DETECTION.md)."""

from __future__ import annotations

import numpy as np
import pytest


def _plan(rx):
    from station.sweep import SweepPlan, prepare_receiver

    plan = SweepPlan.make([("vhf", 150e6, 156e6)], 1e3, 2.4e6, 0.01, window="hann", keep_frames=True,
                          tuning_range_hz=rx.info.tuning_range_hz)
    prepare_receiver(rx, plan)
    return plan


def test_first_hop_sets_the_visit_order_and_stitching_is_by_hop():
    from station.receivers import open_receiver
    from station.sweep import sweep_band

    rx = open_receiver("sim://trap")
    rx.set_gain(30.0)
    plan = _plan(rx)
    bp = plan.bands[0]
    assert bp.n_hops == 4
    bs = sweep_band(rx, plan, bp, first_hop=2)
    visited = [round(h.center_hz) for h in bs.hops]
    assert visited == [round(bp.hop_centers_hz[h]) for h in (2, 3, 0, 1)]
    starts = bs.spectrum.meta["hop_start_s"]
    assert starts[2] < starts[3] < starts[0] < starts[1]
    # the strong licensed carrier at 151.2 MHz (hop 0) is where it belongs in the stitched spectrum
    f, psd = bs.spectrum.freqs_hz, bs.spectrum.psd_dbfs_hz
    k = int(np.argmax(psd))
    assert abs(f[k] - 151.2e6) < 10e3
    assert bs.spectrum.frames_dbfs_hz.shape == (bs.spectrum.n_frames, bs.spectrum.n_bins)
    with pytest.raises(ValueError, match="first_hop"):
        sweep_band(rx, plan, bp, first_hop=4)
    rx.close()


def test_pipeline_varies_the_first_hop_reproducibly(tmp_path):
    from station.compliance.register import builtin_path
    from station.config import load_config
    from station.daemon.supervision import open_configured_receiver
    from station.pipeline import Pipeline

    orders = []
    for run in range(2):
        config = load_config(builtin_path("trap.toml")).with_data_dir(tmp_path / f"d{run}")
        pipeline = Pipeline(config)
        rx = open_configured_receiver(config.receivers[0])
        band = config.band("ism")
        firsts = []
        for _ in range(12):
            res = pipeline.sweep(band, rx)
            starts = res.spectrum.meta["hop_start_s"]
            firsts.append(int(np.argmin(starts)))
        rx.close()
        pipeline.close()
        orders.append(firsts)
    assert orders[0] == orders[1]  # the simulator's seed makes it reproducible
    assert len(set(orders[0])) == 2  # both hops of the band lead some sweeps
