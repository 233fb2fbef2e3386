"""The ``specmon`` command line. Subcommands are one module each in :mod:`station.commands`, listed in
:data:`COMMANDS`. A subcommand module defines ``add_parser(subparsers) -> argparse.ArgumentParser`` and sets
``func`` (``func(args) -> int``) as the parser default; it imports heavy modules inside ``func`` only, so that
``specmon --help`` stays fast.

Exit codes: 0 success, 1 error, 2 usage, 3 config, 4 bad data file, 5 receiver, 6 sink, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from station import __version__
from station.errors import SpecmonError
from station.redact import redact


class RedactingFilter(logging.Filter):
    """Masks secrets (station.redact) in every log record a handler emits: URL passwords, tokens,
    Authorization content, whatever logged them (our code, a library's exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_text is None and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True

#: subcommand name -> module in station.commands (a test checks each module is listed and loads)
COMMANDS: dict[str, str] = {
    "run": "station.commands.run",
    "config": "station.commands.config",
    "sweep": "station.commands.sweep",
    "import": "station.commands.import_",
    "plot": "station.commands.plot",
    "detect": "station.commands.detect",
    "record": "station.commands.record",
    "rtltcp-serve": "station.commands.rtltcp_serve",
    "register": "station.commands.register",
    "violations": "station.commands.violations",
    "dashboards": "station.commands.dashboards",
    "spool": "station.commands.spool",
    "vocabulary": "station.commands.vocabulary",
    "verify": "station.commands.verify",
    "network": "station.commands.network",
    "calibrate": "station.commands.calibrate",
    "spurs": "station.commands.spurs",
    "warmup": "station.commands.warmup",
}


#: third-party loggers that are chatty at INFO
_NOISY_LOGGERS = ("fontTools", "matplotlib", "PIL", "numba", "urllib3", "urllib3_future", "niquests", "fpdf")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="specmon",
        description="Radio spectrum monitoring station: sweep bands with RTL-SDR receivers, detect emissions, "
        "check them against the licence register, store to SQLite/InfluxDB, export violation cases.",
    )
    parser.add_argument("--version", action="version", version=f"specmon {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO); logs go to stderr",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # third-party libraries log their internals at INFO (fontTools prints every glyph subset of a PDF):
    # keep them to warnings unless DEBUG was asked for
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    if args.log_level != "DEBUG":
        for noisy in _NOISY_LOGGERS:
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SpecmonError as exc:
        print(f"specmon {args.command}: error: {redact(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"specmon {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
