"""The configuration records: typed, frozen, validated before they are built (:mod:`station.config.load`).

Each record documents its fields numpydoc-style with units; the TOML key that sets a field is named where it
differs from the field (``rbw`` -> ``rbw_hz``). ``station/data/station.sample.toml`` shows every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

#: package directory holding built-in data files (``builtin:NAME``)
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

WINDOWS = ("rect", "hann", "blackmanharris", "flattop")
SWEEP_MODES = ("dwell", "interleaved")
EXPORT_FORMATS = ("csv", "xlsx", "geojson", "pdf", "bundle")


@dataclass(frozen=True, slots=True)
class StationInfo:
    """Who and where the station is (``[station]``).

    Parameters
    ----------
    id : str
        Station identifier, 1-64 letters, digits, ``-``, ``_`` or ``.``; the ``station`` tag of every point.
    name : str
        Free text shown to people (default: the id).
    latitude : float
        WGS84 latitude of the antenna, degrees (-90..90).
    longitude : float
        WGS84 longitude of the antenna, degrees (-180..180).
    altitude_m : float, default 0.0
        Antenna height above sea level, m (-500..9000).
    """

    id: str
    name: str
    latitude: float
    longitude: float
    altitude_m: float = 0.0


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """One receiver (``[receiver]`` or one of ``[[receivers]]``).

    Parameters
    ----------
    name : str
        Unique name that bands refer to (default ``main`` for the first, ``rxN`` after).
    uri : str
        Source URI (``rtlsdr://0``, ``rtltcp://HOST:1234``, ``file:PATH.sigmf-meta``, ``sim://city``; see
        :mod:`station.receivers`).
    gain_db : float or None, default None
        Tuner gain, dB (-10..80); None is automatic gain (key ``gain = "auto"``).
    ppm : int, default 0
        Frequency correction of the dongle, parts per million (-500..500).
    sample_rate_hz : float, default 2.4e6
        Sample rate, Hz (225 kHz..3.2 MHz, the RTL-SDR range).
    settle_samples : int, default 16384
        Samples discarded after each retune, count.
    reopen_initial_s : float, default 0.5
        First reopen delay after a receiver failure, s; it doubles after each further failure ...
    reopen_max_s : float, default 30.0
        ... up to this delay, s (>= ``reopen_initial_s``).
    read_timeout_s : float, default 5.0
        A read taking longer than this (beyond the duration of its samples) counts as a receiver failure, s.
    seed : int or None, default None
        Simulator seed (``sim://`` receivers only); None: the simulator's default.
    calibration : Path or None, default None
        Calibration profile of this receiver (``specmon calibrate``; docs/CALIBRATION.md), checked at start-up;
        None: the shipped nominal R820T profile (levels then read "nominal (uncalibrated)").
    """

    name: str
    uri: str
    gain_db: float | None = None
    ppm: int = 0
    sample_rate_hz: float = 2.4e6
    settle_samples: int = 16384
    reopen_initial_s: float = 0.5
    reopen_max_s: float = 30.0
    read_timeout_s: float = 5.0
    seed: int | None = None
    calibration: Path | None = None


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Detector settings of one band (``[defaults.detector]``, ``[bands.detector]``), passed to
    :mod:`detectors.energy`.

    Parameters
    ----------
    pfa : float, default 1e-6
        Design false-alarm probability per bin, dimensionless (0 < pfa <= 0.5).
    min_snr_db : float or None, default None
        Optional fixed gate: emissions with a lower SNR are not reported, dB (-20..100). None (the default):
        every emission that passes the detector's false-alarm test is reported (docs/DETECTION.md).
    integrate_revisits : int, default 4
        Also detect on the average of each block of this many consecutive sweeps of the band (2..1000), so a
        transmitter too weak for one dwell is found; 1 = off (docs/DETECTION.md, "Integration over revisits").
    min_bandwidth_hz : float, default 0.0
        Narrower emissions are not reported, Hz (>= 0).
    keep_artifacts : bool, default False
        Keep DC spikes, IQ images and hop edges (flagged ``artifact=True``) instead of dropping them.
    spurs_hz : tuple of float, default ()
        Known receiver spurs, Hz; emissions on them are flagged as artifacts.
    bursts : bool, default True
        Keep the per-frame spectra of a sweep to find short bursts (memory: bins x frames per sweep).
    """

    pfa: float = 1e-6
    min_snr_db: float | None = None
    min_bandwidth_hz: float = 0.0
    keep_artifacts: bool = False
    spurs_hz: tuple[float, ...] = ()
    bursts: bool = True
    integrate_revisits: int = 4


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """Channels of a band for occupancy, ITU-R SM.1880 (``[bands.channels]``).

    Parameters
    ----------
    centers_hz : tuple of float
        Channel centre frequencies, Hz, each channel inside the band (``centers`` or ``start``/``spacing``/
        ``stop``).
    width_hz : float
        Width of every channel, Hz.
    threshold_dbfs : float or None, default None
        Fixed channel-power threshold, dBFS (-200..30); None derives it from the noise floor and ``pfa``.
    pfa : float, default 1e-3
        False-alarm probability per channel and revisit of the noise-derived threshold, dimensionless.
    period_s : float, default 900.0
        Integration period of the stored occupancy records, s.
    """

    centers_hz: tuple[float, ...]
    width_hz: float
    threshold_dbfs: float | None = None
    pfa: float = 1e-3
    period_s: float = 900.0

    @property
    def n_channels(self) -> int:
        return len(self.centers_hz)


@dataclass(frozen=True, slots=True)
class BandConfig:
    """One assigned band (one of ``[[bands]]``; unset keys come from ``[defaults]``).

    Parameters
    ----------
    name : str
        Unique band name; the ``band`` tag of its points.
    f_lo_hz, f_hi_hz : float
        Band edges, Hz (``f_lo``, ``f_hi``; ``f_hi_hz > f_lo_hz``).
    rbw_hz : float
        Resolution bandwidth (window ENBW), Hz; at most the span.
    dwell_s : float
        Samples per hop, s (at most 60).
    revisit_s : float
        Wanted time between two sweeps of the band, s.
    priority : int
        0..100; when several bands are due, the higher one runs first.
    receiver : str
        Name of the receiver that sweeps the band.
    window : str, default "hann"
        FFT window: ``rect``, ``hann``, ``blackmanharris`` or ``flattop``.
    detector : DetectorConfig, default DetectorConfig()
        Detector settings of the band.
    channels : ChannelPlan or None, default None
        Channel plan for occupancy; None: no occupancy records.
    mode : str, default "dwell"
        ``dwell``: each hop once for ``dwell_s`` (as soapy_power); ``interleaved``: quick passes over all
        hops repeated within ``interval_s`` (as rtl_power).
    interval_s : float, default 0.0
        Interleaved mode only: integration interval of one band sweep, s (> 0 there, 0 in dwell mode).
    antenna_factor_db_m : float or None, default None
        Antenna factor of the band's antenna, dB/m (-40..80): field strength E = P_dBm + 107 + AF dBuV/m;
        None: levels are reported in dBm only.
    antenna_factor_u_db : float, default 0.0
        Standard uncertainty (k=1) of the antenna factor, dB (0..20).
    """

    name: str
    f_lo_hz: float
    f_hi_hz: float
    rbw_hz: float
    dwell_s: float
    revisit_s: float
    priority: int
    receiver: str
    window: str = "hann"
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    channels: ChannelPlan | None = None
    mode: str = "dwell"
    interval_s: float = 0.0
    antenna_factor_db_m: float | None = None
    antenna_factor_u_db: float = 0.0

    @property
    def span_hz(self) -> float:
        return self.f_hi_hz - self.f_lo_hz


@dataclass(frozen=True, slots=True)
class ComplianceConfig:
    """Register, exempt bands, how far the station can see, when an emission is judged (``[compliance]``).

    Parameters
    ----------
    register : Path or None
        Licence register file (CSV or JSON, docs/REGISTER.md); None: no register, compliance disabled and
        every emission ``unknown``.
    exempt_bands : Path or None
        Licence-exempt / class-licensed bands file; None: none.
    monitoring_range_m : float, default 30000.0
        Assignments farther from the station than this are ignored, m (> 0).
    min_snr_db : float or None, default None
        Optional fixed gate: emissions with a lower SNR are not judged, dB (>= -20). None (the default): every
        non-artifact emission is judged, on its track's canonical measurement and its uncertainty.
    case_pfa : float, default 1e-6
        A case opens only when the track's readings are confirmed: noise alone would produce that many
        readings in the confirmation window with at most this probability (0 < case_pfa < 0.1).
    confirm_revisits : int, default 20
        Length of the confirmation window, revisits of the track (2..1000).
    """

    register: Path | None
    exempt_bands: Path | None
    monitoring_range_m: float = 30000.0
    min_snr_db: float | None = None
    case_pfa: float = 1e-6
    confirm_revisits: int = 20


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where results go (``[store]``).

    Parameters
    ----------
    data_dir : Path
        Data directory: SQLite store, spool, tracker state, evidence, exports (relative: to the config file).
    sinks : tuple of str, default ("sqlite:specmon.db",)
        Store and sink URIs (``sqlite:``, ``influx://``, ``influx2://``; docs/INFLUXDB.md); relative sqlite
        paths are under ``data_dir``.
    spool_max_mb : float, default 512.0
        Spool quota shared by the sinks, MB (10^6 bytes, >= 1); spectra are thinned first.
    spectrum_points : int, default 512
        ``band_spectrum`` points stored per sweep, count (16..65536).
    reserve_mb : float, default 50.0
        Free space kept on the spool's filesystem, MB (10^6 bytes, 0..10^6): below it spectra and health are
        no longer spooled (held in memory and sent directly), below a quarter of it nothing is spooled.
    memory_points : int, default 50000
        Points held in memory per sink while the spool's disk refuses writes or is below the reserve, count
        (100..10^7); when full, spectra go first, then health, emissions, violations (each drop counted).
    checkpoint_interval_s : float, default 60.0
        At most one signed checkpoint of the case chain heads per this many seconds (1..86400), written to
        ``case-checkpoints.jsonl`` beside the case store and sent as a ``case_checkpoint`` point when some
        case's history grew (docs/VIOLATIONS.md, "Checkpoints").
    """

    data_dir: Path
    sinks: tuple[str, ...] = ("sqlite:specmon.db",)
    spool_max_mb: float = 512.0
    spectrum_points: int = 512
    reserve_mb: float = 50.0
    memory_points: int = 50_000
    checkpoint_interval_s: float = 60.0

    @property
    def db_path(self) -> Path:
        """The embedded SQLite store (the first ``sqlite:`` sink, else ``data_dir/specmon.db``)."""
        for uri in self.sinks:
            if uri.startswith("sqlite:"):
                return resolve_sqlite_path(uri, self.data_dir)
        return self.data_dir / "specmon.db"


@dataclass(frozen=True, slots=True)
class EvidenceConfig:
    """Evidence captured when a violation case opens (``[evidence]``).

    Parameters
    ----------
    enabled : bool, default True
        Capture IQ and a spectrum snapshot for each new case.
    iq_duration_s : float, default 1.0
        IQ recorded around the emission, s (at most 10; key ``iq_duration``), starting 0.1 s before the
        emission is first seen on the air (the recorder waits up to 4 s for a burst; see
        station/compliance/evidence.py).
    sample_rate_hz : float, default 1.024e6
        Sample rate of the evidence recording, Hz.
    max_per_sweep : int, default 2
        Captures after one sweep, count (0..100); further new cases wait for the next sweep so the schedule
        is not stalled.
    """

    enabled: bool = True
    iq_duration_s: float = 1.0
    sample_rate_hz: float = 1.024e6
    max_per_sweep: int = 2


@dataclass(frozen=True, slots=True)
class ExportConfig:
    """Exports of violation cases written at the end of a bounded run and by ``specmon violations``
    (``[export]``).

    Parameters
    ----------
    formats : tuple of str, default ("csv", "pdf")
        Export formats, each one of ``csv``, ``xlsx``, ``geojson``, ``pdf``.
    dir : Path, default Path("exports")
        Output directory; relative to ``store.data_dir`` (see :attr:`Config.export_dir`).
    lang : str, default "en"
        Language of the PDF labels: ``en`` or ``vi``.
    on_exit : bool, default True
        Export the cases when a bounded run ends.
    """

    formats: tuple[str, ...] = ("csv", "pdf")
    dir: Path = Path("exports")
    lang: str = "en"
    on_exit: bool = True


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Bounds and rhythm of the run (``[run]``); 0 sweeps and 0 s is unbounded (a service).

    Parameters
    ----------
    sweeps : int, default 0
        Stop once every band completed this many sweeps, count (0: never).
    duration_s : float, default 0.0
        Stop after this long, s (0: never; key ``duration``).
    health_interval_s : float, default 10.0
        Rhythm of the station-wide health point and the systemd status, s (key ``health_interval``).
    tui : str, default "auto"
        Live terminal view: ``auto`` (when stdout is a TTY), ``on`` or ``off``.
    revisit_jitter : float, default 0.25
        Fraction (0..0.5) by which each band's interval to its next sweep is drawn at random around its
        ``revisit`` (uniform in ``revisit * [1 - j, 1 + j]``, mean ``revisit``), so the schedule does not lock
        in phase with periodic burst transmitters (station.scheduler); 0: strictly periodic.
    """

    sweeps: int = 0
    duration_s: float = 0.0
    health_interval_s: float = 10.0
    tui: str = "auto"
    revisit_jitter: float = 0.25


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The station's read-only web app (``[web]``, docs/WEB.md): live spectrum, health, cases and evidence.

    Parameters
    ----------
    enabled : bool, default False
        Serve the web app while the station runs (off when ``[web]`` is absent; on in the demo).
    bind : str, default "127.0.0.1"
        Address to listen on (an IP address or host name). Anything but a loopback address needs ``token``.
    port : int, default 8088
        TCP port (1..65535); the Grafana dashboards link to ``http://HOST:8088/cases/<case id>`` by default.
    token : str or None, default None
        Bearer token every request must carry (``Authorization: Bearer TOKEN``, or once ``?token=`` in a
        browser, which sets a cookie); at least 16 characters. Required when ``bind`` is not loopback. Keys
        ``token`` (the value) or ``token_file`` (a file holding it, read at start-up), not both.
    lang : str, default "en"
        Language of the pages when the browser does not choose: ``en`` or ``vi``.
    spectrum_points : int, default 1024
        Points of the live spectrum sent to browsers per band and sweep (64..8192; peak-preserving decimation).
    """

    enabled: bool = False
    bind: str = "127.0.0.1"
    port: int = 8088
    token: str | None = field(default=None, repr=False)
    lang: str = "en"
    spectrum_points: int = 1024

    @property
    def loopback(self) -> bool:
        return is_loopback(self.bind)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration.

    Parameters
    ----------
    source : str
        Where it came from, for messages: the file path, or ``<demo>``.
    station : StationInfo
    receivers : tuple of ReceiverConfig
        At least one, unique names.
    bands : tuple of BandConfig
        At least one, unique names, each naming one of ``receivers``.
    compliance : ComplianceConfig
    store : StoreConfig
    evidence : EvidenceConfig, default EvidenceConfig()
    export : ExportConfig, default ExportConfig()
    run : RunConfig, default RunConfig()
    web : WebConfig, default WebConfig()
    """

    source: str
    station: StationInfo
    receivers: tuple[ReceiverConfig, ...]
    bands: tuple[BandConfig, ...]
    compliance: ComplianceConfig
    store: StoreConfig
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    run: RunConfig = field(default_factory=RunConfig)
    web: WebConfig = field(default_factory=WebConfig)

    def receiver(self, name: str) -> ReceiverConfig:
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)

    def band(self, name: str) -> BandConfig:
        for b in self.bands:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def export_dir(self) -> Path:
        d = self.export.dir
        return d if d.is_absolute() else self.store.data_dir / d

    def with_data_dir(self, data_dir: Path) -> "Config":
        """A copy with another data directory (``specmon run --data-dir``)."""
        return replace(self, store=replace(self.store, data_dir=Path(data_dir)))

    def with_bounds(self, *, sweeps: int | None = None, duration_s: float | None = None) -> "Config":
        run = self.run
        if sweeps is not None:
            run = replace(run, sweeps=int(sweeps))
        if duration_s is not None:
            run = replace(run, duration_s=float(duration_s))
        return replace(self, run=run)


def resolve_sqlite_path(uri: str, data_dir: Path) -> Path:
    """``sqlite:PATH`` -> absolute path (relative paths are under ``data_dir``)."""
    p = Path(uri.split(":", 1)[1].split("?", 1)[0])
    return p if p.is_absolute() else Path(data_dir) / p

