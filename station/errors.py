"""Error types of the station layer.

Every error a user can cause (a bad config key, a malformed register row, an unreachable host, a truncated
recording) is raised as a :class:`SpecmonError` subclass whose message names the problem and where it is
(file:line:column, config key, URI). The CLI prints ``str(error)`` on one line and exits with ``exit_code``.
"""

from __future__ import annotations


#: a message longer than this is cut (callers echo values with station.redact.shown, ~80 characters each)
MAX_MESSAGE_CHARS = 600


class SpecmonError(Exception):
    """Base class: a user-facing error with a one-line message and a CLI exit code."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None):
        from station.redact import redact, shorten

        # secrets never reach a message (URL passwords, tokens, Authorization content), nor does a huge value
        where = redact(where) if where else where
        message = shorten(redact(message), MAX_MESSAGE_CHARS)
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class UsageError(SpecmonError):
    """A bad command-line argument."""

    exit_code = 2


class ConfigError(SpecmonError):
    """A bad configuration file or key (``where`` is ``file:key``)."""

    exit_code = 3


class DataError(SpecmonError):
    """A bad input file: recording, CSV, register, scenario (``where`` is ``file:line[:column]``)."""

    exit_code = 4


class ReceiverError(SpecmonError):
    """A receiver could not be opened, tuned or read."""

    exit_code = 5


class ReceiverUnavailable(ReceiverError):
    """No device/library/host behind the URI (dongle unplugged, host unreachable, library missing)."""


class TuningError(ReceiverError):
    """A frequency, sample rate or gain the receiver cannot give."""


class SinkError(SpecmonError):
    """A store or sink failed (server refused, disk full)."""

    exit_code = 6


class EndOfRecording(ReceiverError):
    """A file source reached the end of its recording (replay without looping)."""
