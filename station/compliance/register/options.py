"""What the importers of real registers fill in where the source register has no value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Defaults an importer applies where the source register has no value.

    Parameters
    ----------
    channel_width_hz : float or None, Hz
        Channel width of every imported assignment whose source gives none. None: the format's default
        (``DEFAULT_CHANNEL_HZ`` of its importer module: 12.5 kHz for nz-rsm and acma, 25 kHz for ourairports).
    tolerance_ppm : float, ppm of the centre frequency
        Frequency tolerance of every imported assignment (the real registers give none).
    mobile_radius_m : float, m
        ACMA: service radius around the site of the mobiles that transmit on the site's receive frequency.
    sites : Path or None
        ACMA ``site.csv`` / OurAirports ``airports.csv`` that gives the coordinates; None: imported without.
    """

    channel_width_hz: float | None = None
    tolerance_ppm: float = 5.0
    mobile_radius_m: float = 30_000.0
    sites: Path | None = None
