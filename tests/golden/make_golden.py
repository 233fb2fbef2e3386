"""Regenerate the detector's golden files and a spectrum plot to check them by eye.

    .venv/bin/python -m tests.golden.make_golden OUT_DIR NAME.cu8 [NAME.cu8 ...]

Writes tests/golden/<NAME>.json (the emissions of ``specmon detect --keep-artifacts`` with default settings,
with the note of a line one tuning cannot confirm) and OUT_DIR/<NAME>.png: the spectrogram, and the mean PSD,
max hold, noise floor and every emission's 99 % band (red; artifacts grey).
Look at the plot before committing a golden file and write what you saw in its ``eye_check``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from detectors.energy import EmissionDetector
from station.commands.detect import _params, emission_json, iq_spectrum, line_note
from tests.conftest import SHARED_DATA

HERE = Path(__file__).resolve().parent
FIELDS = ("center_hz", "bandwidth_hz", "power_dbfs", "snr_db", "occupancy", "n_bursts", "artifact", "artifact_reason",
          "note")


def cli_args(name: str) -> SimpleNamespace:
    return SimpleNamespace(recording=str(SHARED_DATA / "iq" / name), sample_rate=None, center_freq=None, format=None,
                           nfft=0, window="hann", overlap=0.5, max_seconds=10.0, pfa=1e-6, keep_artifacts=True,
                           spur=[], spur_map=None, min_snr=None)


def detect(name: str):
    args = cli_args(name)
    sp = iq_spectrum(args)
    det = EmissionDetector(_params(args))
    return sp, det, det.detect(sp)


def rows_of(emissions) -> list[dict]:
    rows = []
    for e in emissions:
        d = {k: v for k, v in emission_json(e, note=line_note(e)).items() if k in FIELDS}
        d["center_hz"], d["bandwidth_hz"] = round(d["center_hz"], 1), round(d["bandwidth_hz"], 1)
        d["power_dbfs"], d["snr_db"] = round(d["power_dbfs"], 2), round(d["snr_db"], 2)
        d["occupancy"] = round(d["occupancy"], 3)
        rows.append(d)
    return rows


def plot(name: str, sp, det, em, png: Path) -> None:
    """Spectrogram (blocks of frames, top) and mean PSD / max hold / noise floor with every emission's 99 %
    band (bottom: red transmitters, grey artifacts) of one recording, to ``png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    floor = det.noise_floor(sp)
    c = sp.hop_centers_hz[0]
    f = (sp.freqs_hz - c) / 1e3
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(16, 10), sharex=True)
    if sp.frames_dbfs_hz is not None:
        fr = sp.frames_dbfs_hz
        k = max(1, fr.shape[0] // 400)
        n = fr.shape[0] // k * k
        img = 10 * np.log10(np.mean(10 ** (fr[:n].reshape(-1, k, fr.shape[1]) / 10), axis=1))
        a0.imshow(img, aspect="auto", origin="lower", extent=[f[0], f[-1], 0, sp.frame_times_s[n - 1]],
                  vmin=np.percentile(img, 20), vmax=img.max(), cmap="viridis")
        a0.set_ylabel("time (s)")
    a1.plot(f, sp.psd_dbfs_hz, lw=0.6, label="mean PSD")
    a1.plot(f, sp.maxhold_dbfs_hz, lw=0.3, alpha=0.4, label="max hold")
    a1.plot(f, floor.floor_dbfs_hz, lw=1, label="noise floor")
    for e in em:
        a1.axvspan((e.f_lo_hz - c) / 1e3, (e.f_hi_hz - c) / 1e3, color="gray" if e.artifact else "r", alpha=0.3)
    a1.set_title(f"{name}: {len(em)} emissions, {sum(not e.artifact for e in em)} not artifacts")
    a1.set_xlabel("offset from centre (kHz)")
    a1.set_ylabel("dBFS/Hz")
    a1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=60)
    plt.close(fig)


def main(argv: list[str]) -> int:
    out, names = Path(argv[0]), argv[1:]
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        sp, det, em = detect(name)
        stem = name.rsplit(".", 1)[0]
        plot(name, sp, det, em, out / f"{stem}.png")
        path = HERE / f"{stem}.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        doc = {"recording": f"iq/{name}", "nfft": sp.nfft, "pfa": 1e-6, "keep_artifacts": True,
               "eye_check": old.get("eye_check", "TODO: look at the plot"), "emissions": rows_of(em)}
        path.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
