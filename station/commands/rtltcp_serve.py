"""``specmon rtltcp-serve``: serve any receiver (sim://, file:, rtlsdr://) over the rtl_tcp protocol."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Serve a receiver over the standard rtl_tcp protocol, so GQRX, SDR#, SDR++, OpenWebRX or specmon's own
rtltcp:// source can listen to the simulated city or replay a recording:

  specmon rtltcp-serve --source sim://city --port 1234
  specmon rtltcp-serve --source file:g001_433.92M_250k.cu8 --port 1234

Samples are sent as cu8 at the receiver's sample rate; the client's commands (frequency, sample rate, gain,
ppm) are applied to the receiver. One client at a time. rtl_tcp has NO authentication: the server binds to
127.0.0.1 unless --host says otherwise, and warns when it does. File sources replay in a loop (--no-loop
closes the client at the end of the recording). Stop with Ctrl-C."""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "rtltcp-serve",
        help="serve a receiver (sim://, file:, rtlsdr://) over the rtl_tcp protocol",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--source", required=True, metavar="URI", help="receiver URI: sim://city, file:PATH, rtlsdr://0")
    p.add_argument("--port", type=int, default=1234, help="TCP port (default 1234, rtl_tcp's; 0 = any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; anything else exposes an unauthenticated receiver)")
    p.add_argument("--center-freq", metavar="F", default=None,
                   help="initial centre frequency, e.g. 100M (default: the recording's, else 100M as rtl_tcp)")
    p.add_argument("--sample-rate", metavar="R", default=None,
                   help="initial sample rate, e.g. 2.048M (default: the recording's, else 2.048M as rtl_tcp)")
    p.add_argument("--gain", default=None, metavar="DB", help="initial gain in dB, or 'auto' (default auto)")
    p.add_argument("--no-loop", action="store_true", help="file sources: end the stream at the end of the recording")
    p.add_argument("--max-clients", type=int, default=None, metavar="N",
                   help="exit after serving N clients one after another (default: serve until Ctrl-C)")
    p.add_argument("--client-timeout", type=float, default=10.0, metavar="S",
                   help="drop a client that reads nothing for S seconds, so the next one gets the slot (default 10)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import logging

    from station.errors import UsageError
    from station.receivers import open_receiver, scheme_of
    from station.rtltcp_server import LOOPBACK_HOSTS, RtlTcpServer
    from station.units import parse_gain_db, parse_positive_hz

    log = logging.getLogger("specmon.rtltcp-serve")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (0-65535)")
    if args.max_clients is not None and args.max_clients < 1:
        raise UsageError(f"--max-clients must be at least 1, got {args.max_clients}")
    center = parse_positive_hz(args.center_freq, what="--center-freq") if args.center_freq else None
    rate = parse_positive_hz(args.sample_rate, what="--sample-rate") if args.sample_rate else None
    gain = parse_gain_db(args.gain, what="--gain")
    options = {"loop": not args.no_loop} if scheme_of(args.source) == "file" else {}
    receiver = open_receiver(args.source, **options)
    try:
        if rate is not None or receiver.sample_rate_hz <= 0:
            receiver.set_sample_rate(rate or 2_048_000.0)
        if center is not None or receiver.center_freq_hz <= 0:
            receiver.set_center_freq(center or 100e6)
        receiver.set_gain(gain)
        if args.host not in LOOPBACK_HOSTS:
            log.warning("binding rtl_tcp to %s: rtl_tcp has no authentication, anyone who can reach %s:%d can "
                        "tune and listen to this receiver", args.host, args.host, args.port)
        if not 0.1 <= args.client_timeout <= 3600:
            from station.errors import UsageError

            raise UsageError(f"--client-timeout {args.client_timeout:g} must be 0.1..3600 s")
        server = RtlTcpServer(receiver, args.host, args.port, send_timeout_s=args.client_timeout)
        try:
            host, port = server.bind()
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
        print(f"rtl_tcp server for {args.source} listening on {host}:{port} "
              f"({receiver.center_freq_hz / 1e6:.6f} MHz, {receiver.sample_rate_hz:.0f} S/s); Ctrl-C stops",
              flush=True)
        try:
            server.serve_forever(max_clients=args.max_clients)
        except KeyboardInterrupt:
            server.shutdown()
            print("rtl_tcp server stopped", flush=True)
        return 0
    finally:
        receiver.close()
