"""``specmon verify BUNDLE...``: check signed evidence bundles (signature, every file, the case's hash chain);
``specmon verify --station-key``: print the station's public key (created with the key pair on first use), the
half to hand to whoever must verify its bundles.

Exit 0 when every bundle verifies; 4 with one line per problem on stderr otherwise.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "verify",
        help="verify evidence bundles (signature, files, hash chain); print the station's public key",
        description="Check evidence bundles written by `specmon violations export --format bundle`: the Ed25519 "
        "signature of the manifest, the SHA-256 of every file, that no file was added, the case's hash chain up "
        "to the signed head, and that the captured files are those the station recorded. Prints one line per "
        "problem and exits 4 on any. With --station-key, print the station's public key instead.",
    )
    p.add_argument("bundles", nargs="*", metavar="BUNDLE", help="bundle zip files")
    p.add_argument("--key", metavar="PEM", help="the trusted station public key (station-ed25519.pub.pem): the "
                   "bundle must be signed by it (without --key any valid signature is accepted and its "
                   "fingerprint shown)")
    p.add_argument("--station-key", action="store_true",
                   help="print this station's public key PEM and fingerprint (created on first use)")
    p.add_argument("--data-dir", metavar="DIR", help="with --station-key: the station's data directory "
                   "(where the case store is; default ./specmon-data)")
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
    if not args.bundles:
        raise UsageError("give at least one BUNDLE (or --station-key)")
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
