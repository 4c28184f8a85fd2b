"""Run every benchmark, one after the other, each in its own process: `python -m benchmarks [names]`."""

from __future__ import annotations

import subprocess
import sys

ALL = ["bench_ingestion", "bench_landing", "bench_cleaning", "bench_make_run", "bench_serving", "bench_lambda",
       "bench_hostile", "bench_model", "bench_monitoring", "bench_platform"]


def main() -> int:
    chosen = sys.argv[1:] or ALL
    failed = []
    for name in chosen:
        print(f"\n# {name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
