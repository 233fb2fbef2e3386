"""Fuzz soak (issue 14): the property-based input fuzz suite (tests/test_fuzz_inputs.py) with the ``soak``
hypothesis profile (20,000 examples per property, random seeds; ``--examples N`` to change), printing per
property the examples run and any failure hypothesis found (the minimal failing input).

    python benchmarks/fuzz_soak.py [--examples 20000] [-k test_config_fuzz_numbers]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=20_000, help="examples per property (default 20000)")
    ap.add_argument("-k", dest="select", default=None, help="only the properties matching this pytest -k expression")
    args = ap.parse_args()
    env = dict(os.environ, HYPOTHESIS_PROFILE="soak", SPECMON_FUZZ_EXAMPLES=str(args.examples),
               PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    select = ["-k", args.select] if args.select else []
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
                          *select, str(ROOT / "tests" / "test_fuzz_inputs.py")], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    print(f"fuzz soak: {args.examples} examples per property, {time.monotonic() - t0:.0f} s")
    for line in out.stdout.splitlines():
        if any(k in line for k in ("tests/test_fuzz_inputs.py::", "passing", "failing", "Failing", "phase (",
                                   "Stopped because", "passed", "failed", "Error", "E  ")):
            print(line)
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
