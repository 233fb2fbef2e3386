"""The station daemon: the scheduled, supervised loop behind ``specmon run``.

One main loop (no threads): ask the :class:`~station.scheduler.Scheduler` which band is due, take its
receiver from a :class:`ReceiverSupervisor` (opened with backoff after failures), sweep it and hand the
spectrum to the :class:`~station.pipeline.Pipeline` (detect -> track -> comply -> cases -> spool/sinks),
capture evidence for new violation cases, persist the tracker state, emit ``station_health`` points and pet
the systemd watchdog. Everything that can fail in the field is contained here:

- receiver read errors, timeouts, short reads, an unplugged dongle, a restarted rtl_tcp server: the
  receiver is closed and reopened with exponential backoff (state ``reopening`` in health); its bands are
  held meanwhile, other receivers' bands keep running; the loop never crashes on them;
- sinks down: the pipeline writes every point to the on-disk spool first, so measuring continues;
- SIGTERM/SIGINT (:meth:`Daemon.request_stop`): the current hop is abandoned at the next read, the spool is
  flushed for at most ``STOP_FLUSH_S``, the state saved; ``run`` returns and the process exits 0 in < 5 s;
- SIGHUP (:meth:`Daemon.request_reload`): config and register are reloaded between sweeps; tracks, cases,
  revisit history and spool are kept; a bad new config is logged and the old one stays;
- wall-clock jumps: scheduling and durations use ``time.monotonic``; only record timestamps use UTC;
- a full disk: the error is reported in health (``store_state``) and measuring continues; SQLite's
  transactions keep the store consistent.

Signal handlers are installed only by :func:`install_signal_handlers` (called from the CLI's main).

The package: ``loop`` (:class:`Daemon`), ``supervision`` (:class:`ReceiverSupervisor`,
:class:`GuardedReceiver`), ``signals`` (:class:`SystemdNotifier`, :func:`install_signal_handlers`), ``summary``
(:class:`RunSummary`, host health probes). Import from here.
"""

from station.daemon.loop import BOUNDED, BOUNDED_EVIDENCE_S, BOUNDED_FLUSH_S, STOP_FLUSH_S, Daemon
from station.daemon.signals import SystemdNotifier, install_signal_handlers
from station.daemon.summary import RunSummary
from station.daemon.supervision import (
    GuardedReceiver,
    ReceiverCounters,
    ReceiverFactory,
    ReceiverSupervisor,
    SweepAbandoned,
    open_configured_receiver,
    process_age_s,
)

__all__ = ["Daemon", "GuardedReceiver", "ReceiverSupervisor", "RunSummary", "SweepAbandoned",
           "SystemdNotifier", "install_signal_handlers", "open_configured_receiver"]
