"""The narrow interface every sink implements: connect / write(lines) / close. The framework
(:mod:`station.outputs.sinks._runner`) owns batching, retries, back-pressure and dead letters; a sink only says
whether a batch was accepted, refused as malformed, or could not be delivered now."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from station.errors import SinkError


class SinkTransient(SinkError):
    """Could not deliver now (connection refused, timeout, 5xx, 429, auth refused): retry later, same batch."""

    def __init__(self, message: str, *, where: str | None = None, retry_after_s: float | None = None):
        super().__init__(message, where=where)
        self.retry_after_s = retry_after_s


class SinkRejected(SinkError):
    """The server refused the batch's content (4xx: malformed point, field type conflict, too large).
    The framework splits the batch and dead-letters the point(s) that stay refused alone."""

    def __init__(self, message: str, *, where: str | None = None, status: int | None = None):
        super().__init__(message, where=where)
        self.status = status


class Sink(abc.ABC):
    """A destination for line-protocol points. Implementations are one module each, registered by URI
    scheme in :data:`station.outputs.sinks.REGISTRY`; they are built with the parsed :class:`SinkTarget`."""

    def __init__(self, target):
        self.target = target

    @property
    def name(self) -> str:
        """The URI with secrets masked: safe to log."""
        return self.target.masked

    @abc.abstractmethod
    def connect(self) -> None:
        """Prepare to write (open a connection or file). SinkTransient when the far end is unreachable now,
        SinkError (ConfigError) when the target can never work (bad option, missing secret file)."""

    @abc.abstractmethod
    def write(self, lines: Sequence[bytes]) -> None:
        """Deliver a batch of line-protocol lines (no trailing newlines); return only once the far end
        acknowledged all of them. Raises SinkTransient or SinkRejected (see above)."""

    def close(self) -> None:
        """Release connections/files. Idempotent."""
