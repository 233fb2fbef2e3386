"""Run one function in a short-lived child Python process, so that what it imports and allocates does not stay in
the station daemon's memory for months.

The daemon uses it for the work that needs heavy libraries only now and then: the evidence snapshot (matplotlib,
~50 MB resident once imported and drawn, never given back) and the export at the end of a bounded run (fpdf2,
~15-20 MB). The child is a fresh interpreter (``sys.executable -c ...``; no fork of the daemon, no
multiprocessing machinery: no resource-tracker process is left behind): it imports only what the function's
module needs (numpy and matplotlib, not numba) and exits when the function returns.

    from station.childproc import call_in_child
    path = call_in_child(snapshot_png, spectrum, result, nearby, path, title=...)

The function, its arguments and its result travel pickled (the function by its module and name, so it must be
a module-level function). An exception raised by the function is re-raised in the parent as it is (pickled
back); a child that cannot start, dies, or runs out of time raises :class:`ChildFailed` (callers fall back to
running in-process). The child's stderr is the parent's (its log lines and tracebacks show up in the journal). The child ignores
SIGINT and SIGTERM: stopping is the station's business, and the child's job takes about a second.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: the folder holding the station, dsp and detectors packages (the child imports them from here)
_ROOT = str(Path(__file__).resolve().parent.parent)

#: stop signals ignored first thing (see _child_main), then the call
_CHILD_CODE = ("import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
               "signal.signal(signal.SIGTERM, signal.SIG_IGN); import station.childproc as c; c._child_main()")


class ChildFailed(RuntimeError):
    """The child process did not return a result (could not start, was killed, crashed, timed out)."""


def call_in_child(fn, *args, timeout_s: float = 120.0, **kwargs):
    """``fn(*args, **kwargs)`` in a fresh child interpreter; its result, or its exception re-raised here."""
    payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-c", _CHILD_CODE], input=payload, stdout=subprocess.PIPE,
                           stderr=None, env=env, timeout=timeout_s, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise ChildFailed(f"{_name(fn)} did not finish within {timeout_s:g} s in its child process") from None
    except OSError as exc:
        raise ChildFailed(f"cannot start a child process for {_name(fn)}: {exc}") from None
    try:
        kind, value, peak_kb = pickle.loads(p.stdout)
    except Exception:
        raise ChildFailed(f"the child process for {_name(fn)} exited with status {p.returncode} and no result") \
            from None
    log.debug("%s ran in a child process in %.2f s, its peak RSS %.0f MB", _name(fn), time.monotonic() - t0,
              peak_kb / 1024)
    if kind == "error":
        raise value
    return value


def _name(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"


def _child_main() -> None:
    """The child's side: read the pickled call on stdin, write the pickled outcome on stdout."""
    import signal

    # a Ctrl-C (the terminal's process group: the child has its own session anyway) or systemd's stop (the
    # whole cgroup) is the station's to handle: the child finishes its short job (bounded by the parent's
    # timeout) instead of dying mid-way
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything the function prints must not corrupt the result
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    fn, args, kwargs = pickle.loads(sys.stdin.buffer.read())
    try:
        outcome = ("ok", fn(*args, **kwargs))
    except Exception as exc:  # handed back to the caller, which decides
        outcome = ("error", exc)
    peak_kb = _peak_rss_kb()
    try:
        data = pickle.dumps((*outcome, peak_kb), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable result or exception: say what it was
        data = pickle.dumps(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]} "
                                                   f"(not picklable: {exc})"), peak_kb))
    out.write(data)
    out.flush()


def _peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM; 0 where /proc is not available)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
