"""Run every benchmark module (`benchmarks/**/bench_*.py` with a `main()`), or those named.

python -m benchmarks                 # all
python -m benchmarks live.bench_decode
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).parent


def discover() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts) for path in ROOT.rglob("bench_*.py")
    )


def main(argv: list[str]) -> int:
    names = argv or discover()
    if not names:
        print("no benchmarks found")
        return 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
