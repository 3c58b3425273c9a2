"""A long schemathesis session (every check and phase, many examples) against a real ``factorytwin serve`` process;
``make test`` runs the same on a bounded number of examples (tests/integration/api/test_schemathesis.py).

    .venv/bin/python bench/schemathesis.py [--max-examples 200] [--seed 7] [--max-time 600]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the runner lives beside the test that uses it

from tests.integration.api.schemathesis_run import run_schemathesis


def main() -> int:
    """Run the session, print schemathesis's report, exit with its exit code."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-examples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-time", type=int, default=None, help="seconds for the fuzzing and stateful phases")
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="seconds before the whole run is stopped")
    args = ap.parse_args()
    extra = ["--max-time", str(args.max_time)] if args.max_time else []
    with tempfile.TemporaryDirectory(prefix="ft-schemathesis-") as tmp:
        run = run_schemathesis(Path(tmp), args.max_examples, args.seed, extra, timeout_s=args.timeout)
    print(run.output)
    print(f"schemathesis: exit {run.returncode} after {run.seconds:.0f} s")
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
