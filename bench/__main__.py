"""Run every benchmark in this folder, one after another: `python -m bench [NAME ...]`.

Each `bench_*.py` is a standalone script that prints its table and writes
`bench/results/<name>.json`; this runner only sequences them (benchmarks on a 2-core machine
must not compete with each other) and shows which one is running.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        wanted = {a.removeprefix("bench_").removesuffix(".py") for a in argv}
        unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            print(f"unknown benchmark(s): {sorted(unknown)}", file=sys.stderr)
            return 2
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    failed = []
    bar = tqdm(scripts, desc="benchmarks", unit="bench", file=sys.stderr)
    for script in bar:
        bar.set_postfix_str(script.stem)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        tqdm.write(
            f"{script.stem}: exit {code} in {time.monotonic() - started:.0f}s", file=sys.stderr
        )
        if code:
            failed.append(script.stem)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
