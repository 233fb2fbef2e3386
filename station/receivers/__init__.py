"""Receivers chosen by URI. One module per scheme, listed in :data:`REGISTRY` (a test checks every module).

    rtlsdr://0, rtlsdr://?serial=XYZ      a real RTL-SDR through pyrtlsdr (extra ``rtlsdr``)
    rtltcp://host:1234                    the standard rtl_tcp network protocol
    file:PATH[?rate=2.4M&freq=433.92M]    SigMF pair or raw .cu8/.cs8/.cs16/.cf32 replay
    sim://NAME or sim:PATH                the simulated RTL-SDR (built-in scenario NAME or a scenario file)
"""

from __future__ import annotations

import importlib

from station.errors import UsageError
from station.receivers.base import Receiver, ReceiverInfo

#: scheme -> "module:ClassName"; the class has ``from_uri(uri: str, **options) -> Receiver``.
REGISTRY: dict[str, str] = {
    "rtlsdr": "station.receivers.rtlsdr:RtlSdrReceiver",
    "rtltcp": "station.receivers.rtltcp:RtlTcpReceiver",
    "file": "station.receivers.file:FileReceiver",
    "sim": "station.receivers.sim:SimReceiver",
}


def scheme_of(uri: str) -> str:
    scheme, sep, _ = uri.partition(":")
    if not sep or not scheme:
        raise UsageError(f"receiver URI {uri!r} has no scheme; expected one of {', '.join(sorted(REGISTRY))}")
    return scheme.lower()


def receiver_class(uri: str) -> type[Receiver]:
    """The receiver class of ``uri``'s scheme. Unknown schemes are a UsageError naming the known ones."""
    scheme = scheme_of(uri)
    target = REGISTRY.get(scheme)
    if target is None:
        raise UsageError(f"unknown receiver URI scheme {scheme!r} in {uri!r}; known: {', '.join(sorted(REGISTRY))}")
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def open_receiver(uri: str, **options) -> Receiver:
    """Open the receiver named by ``uri``. Unknown schemes are a UsageError naming the known ones."""
    return receiver_class(uri).from_uri(uri, **options)


def check_receiver_uri(uri: str, **options) -> tuple[float, float] | None:
    """Validate ``uri`` as :func:`open_receiver` would, without opening it (:meth:`Receiver.check_uri`): the
    tuning range known before opening, or None."""
    return receiver_class(uri).check_uri(uri, **options)


__all__ = ["REGISTRY", "Receiver", "ReceiverInfo", "check_receiver_uri", "open_receiver", "receiver_class", "scheme_of"]
