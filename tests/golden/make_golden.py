"""Regenerate the detector's golden files and a spectrum plot to check them by eye.

    .venv/bin/python -m tests.golden.make_golden /tmp/golden.png NAME.cu8 [NAME.cu8 ...]

Writes tests/golden/<NAME>.json (the emissions of ``specmon detect --keep-artifacts`` with default settings)
and one PNG with the mean PSD, max hold, noise floor and every emission's 99 % band (red; artifacts grey).
Look at the plot before committing a golden file and write what you saw in its ``eye_check``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from detectors.energy import EmissionDetector
from station.commands.detect import _params, emission_json, iq_spectrum
from tests.conftest import SHARED_DATA

HERE = Path(__file__).resolve().parent
FIELDS = ("center_hz", "bandwidth_hz", "power_dbfs", "snr_db", "occupancy", "n_bursts", "artifact", "artifact_reason")


def cli_args(name: str) -> SimpleNamespace:
    return SimpleNamespace(recording=str(SHARED_DATA / "iq" / name), sample_rate=None, center_freq=None, format=None,
                           nfft=0, window="hann", overlap=0.5, max_seconds=10.0, pfa=1e-6, keep_artifacts=True,
                           spur=[], min_snr=None)


def detect(name: str):
    args = cli_args(name)
    sp = iq_spectrum(args)
    det = EmissionDetector(_params(args))
    return sp, det, det.detect(sp)


def rows_of(emissions) -> list[dict]:
    rows = []
    for e in emissions:
        d = {k: v for k, v in emission_json(e).items() if k in FIELDS}
        d["center_hz"], d["bandwidth_hz"] = round(d["center_hz"], 1), round(d["bandwidth_hz"], 1)
        d["power_dbfs"], d["snr_db"] = round(d["power_dbfs"], 2), round(d["snr_db"], 2)
        d["occupancy"] = round(d["occupancy"], 3)
        rows.append(d)
    return rows


def main(argv: list[str]) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    png, names = argv[0], argv[1:]
    fig, axes = plt.subplots(len(names), 1, figsize=(15, 4.2 * len(names)))
    for ax, name in zip(np.atleast_1d(axes), names):
        sp, det, em = detect(name)
        floor = det.noise_floor(sp)
        c = sp.hop_centers_hz[0]
        f = (sp.freqs_hz - c) / 1e3
        ax.plot(f, sp.psd_dbfs_hz, lw=0.5, label="mean PSD")
        ax.plot(f, sp.maxhold_dbfs_hz, lw=0.3, alpha=0.4, label="max hold")
        ax.plot(f, floor.floor_dbfs_hz, lw=1, label="noise floor")
        for e in em:
            ax.axvspan((e.f_lo_hz - c) / 1e3, (e.f_hi_hz - c) / 1e3, color="gray" if e.artifact else "r", alpha=0.25)
        ax.set_title(f"{name}: {len(em)} emissions")
        ax.set_xlabel("offset from centre (kHz)")
        ax.legend(fontsize=7)
        path = HERE / (name.rsplit(".", 1)[0] + ".json")
        old = json.loads(path.read_text()) if path.exists() else {}
        doc = {"recording": f"iq/{name}", "nfft": sp.nfft, "pfa": 1e-6, "keep_artifacts": True,
               "eye_check": old.get("eye_check", "TODO: look at the plot"), "emissions": rows_of(em)}
        path.write_text(json.dumps(doc, indent=1) + "\n")
    fig.tight_layout()
    fig.savefig(png, dpi=55)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
