"""``specmon verify BUNDLE...``: check signed evidence bundles (signature, every file, the case's hash chain);
``specmon verify --checkpoints``: check the case store against the station's signed chain-head checkpoints
(station.compliance.cases.checkpoints) and, with ``--influx``, the heads it published;
``specmon verify --station-key``: print the station's public key (created with the key pair on first use), the
half to hand to whoever must verify its bundles.

Exit 0 when every bundle verifies; 4 with one line per problem on stderr otherwise.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "verify",
        help="verify evidence bundles (signature, files, hash chain) or the case store against its signed checkpoints; print the station's public key",
        description="Check evidence bundles written by `specmon violations export --format bundle`: the Ed25519 "
        "signature of the manifest, the SHA-256 of every file, that no file was added, the case's hash chain up "
        "to the signed head, and that the captured files are those the station recorded. Prints one line per "
        "problem and exits 4 on any. With --station-key, print the station's public key instead. With "
        "--checkpoints, check the case store against the station's signed checkpoints of its chain heads (and "
        "the heads it sent to InfluxDB): a history rewritten after a checkpoint fails, even with every hash "
        "recomputed (docs/VIOLATIONS.md).",
    )
    p.add_argument("bundles", nargs="*", metavar="BUNDLE", help="bundle zip files")
    p.add_argument("--key", metavar="PEM", help="the trusted station public key (station-ed25519.pub.pem): the "
                   "bundle must be signed by it (without --key any valid signature is accepted and its "
                   "fingerprint shown); with --checkpoints the log must be signed by it (default: the station's own "
                   "keys/station-ed25519.pub.pem beside the store)")
    p.add_argument("--station-key", action="store_true",
                   help="print this station's public key PEM and fingerprint (created on first use)")
    p.add_argument("--data-dir", metavar="DIR", help="with --station-key or --checkpoints: the station's data "
                   "directory (where the case store is; default ./specmon-data)")
    p.add_argument("--checkpoints", action="store_true",
                   help="check the case store against the station's signed checkpoint log (case-checkpoints.jsonl "
                   "beside the store) and, with --influx, against the chain heads and checkpoints the station "
                   "published to InfluxDB: a history rewritten after a checkpoint fails, one line per case")
    p.add_argument("--db", metavar="PATH", help="with --checkpoints: the station's SQLite store")
    p.add_argument("--config", metavar="FILE", help="with --checkpoints: take the store from this station config")
    p.add_argument("--log", metavar="PATH", help="with --checkpoints: the checkpoint log (default: beside the store)")
    p.add_argument("--influx", metavar="URL", help="with --checkpoints: the central InfluxDB (influx://host:8086/db, "
                   "as in [store] sinks) holding the station's violation chain_head fields and case_checkpoint points")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import sys
    from pathlib import Path

    from station.errors import UsageError

    if args.station_key:
        from station.compliance.signing import StationKey

        key = StationKey.load_or_create(Path(args.data_dir or "specmon-data").expanduser())
        sys.stdout.write(key.public_pem.decode("ascii"))
        print(f"# fingerprint sha256:{key.fingerprint}  file {key.public_path}")
        return 0
    if args.checkpoints:
        return run_checkpoints(args)
    if not args.bundles:
        raise UsageError("give at least one BUNDLE (or --station-key, or --checkpoints)")
    trusted = None
    if args.key:
        try:
            trusted = Path(args.key).expanduser().read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the key: {exc.strerror or exc}", where=args.key) from None
    from station.compliance.verify import verify_bundle

    failed = 0
    for b in args.bundles:
        check = verify_bundle(b, trusted_key_pem=trusted)
        if check.ok:
            pinned = "the trusted key" if trusted else "key (bundled; pin it with --key)"
            print(f"{b}: OK: case {check.case_id}, {check.n_files} files intact, signed by {pinned} "
                  f"sha256:{check.fingerprint[:16]}, hash chain intact to {check.chain_head[:16]}")
        else:
            failed += 1
            for problem in check.problems:
                print(f"{b}: FAILED: {problem}", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(args.bundles)} bundles FAILED verification", file=sys.stderr)
        return 4
    return 0


def run_checkpoints(args) -> int:
    """``specmon verify --checkpoints``: exit 0 when the store agrees with every signed checkpoint (and InfluxDB),
    4 with one line per problem on stderr."""
    import sys
    from pathlib import Path

    from station.commands.violations import db_path
    from station.errors import UsageError
    from station.compliance.cases import CaseStore
    from station.compliance.cases.checkpoints import log_path, trusted_public_key, verify_checkpoints

    db = db_path(args)
    key, key_from = trusted_public_key(db, args.key)
    reader = None
    if args.influx:
        from station.network.observations import InfluxReader

        reader = InfluxReader(args.influx)
    log = Path(args.log).expanduser() if args.log else log_path(db)
    if not Path(db).is_file():
        raise UsageError(f"no case store at {db} (give --db PATH, --config FILE or --data-dir DIR)")
    with CaseStore.open_readonly(db) as store:
        report = verify_checkpoints(store, key, path=log, reader=reader)
    pinned = "the pinned key" if args.key else "the station's own key (pin the handed-over one with --key)"
    if report.ok:
        influx = (f"; InfluxDB holds {report.influx_heads} chain heads and {report.influx_checkpoints} checkpoints, "
                  "all consistent" if reader is not None else "")
        print(f"{db}: OK: {report.n_cases} cases agree with {report.n_lines} signed checkpoints (last #{report.last_seq} "
              f"{report.last_time}) in {log}, signed by {pinned} sha256:{(report.fingerprint or '')[:16]}{influx}")
        return 0
    for problem in report.problems:
        print(f"{db}: CHECKPOINT FAILED: {problem}", file=sys.stderr)
    print(f"{len(report.problems)} problem(s): the case store or the checkpoint log was changed after the station "
          f"signed it (key from {key_from})", file=sys.stderr)
    return 4
