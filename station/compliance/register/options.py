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
        The operator's channel width for every imported row whose source gives no bandwidth (marked
        ``operator: --channel-width`` in the row). None (default): such rows are flagged and imported with
        bandwidth unknown (docs/REGISTER.md); there is no built-in default width.
    tolerance_ppm : float or None, ppm of the centre frequency
        The operator's frequency tolerance for every row whose source gives none (marked ``operator:
        --tolerance-ppm``). None (default): the ITU-R RR Appendix 2 rule for the row's category of station, else
        the row is flagged and left out.
    mobile_radius_m : float, m
        ACMA: service radius around the site of the mobiles that transmit on the site's receive frequency.
    sites : Path or None
        ACMA ``site.csv`` / OurAirports ``airports.csv`` that gives the coordinates; None: imported without.
    """

    channel_width_hz: float | None = None
    tolerance_ppm: float | None = None
    mobile_radius_m: float = 30_000.0
    sites: Path | None = None
