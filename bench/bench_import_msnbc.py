"""Import MSNBC (4.7 M click events, ~1 M visitors) into a fresh SQLite store: time, peak
memory (RSS) and database size. The importer streams the gzip file and appends in batches,
so memory should stay flat however many events go in.

    .venv/bin/python bench/bench_import_msnbc.py [--limit VISITORS] [--batch 5000] [--db URL]

Without ``--limit`` it imports everything (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from personalization.evaluation.importers import import_msnbc
from personalization.store.event_store import EventStore

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="visitors (default: all)")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temp file)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "msnbc.db"
        url = args.db or f"sqlite:///{db_file}"
        with EventStore(url) as store:
            start = time.perf_counter()
            report = import_msnbc(
                store, limit=args.limit, batch=args.batch, progress=not args.no_progress
            )
            elapsed = time.perf_counter() - start
            stored = store.count()
            users = len(store.users())
        size = sum(p.stat().st_size for p in Path(tmp).glob("msnbc.db*")) if not args.db else None
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {
        "visitors_limit": args.limit,
        "batch": args.batch,
        "events_read": report.events,
        "events_stored": stored,
        "visitors_stored": users,
        "rejected": report.rejected,
        "seconds": round(elapsed, 1),
        "events_per_s": round(report.events / elapsed),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "db_size_mib": None if size is None else round(size / 2**20, 1),
    }
    print(f"{'measure':<20}{'value':>14}")
    for key, value in result.items():
        print(f"{key:<20}{value!s:>14}")
    RESULTS.mkdir(exist_ok=True)
    name = "bench_import_msnbc" + ("" if args.limit is None else f"_limit{args.limit}")
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
