"""Serve the API on its own (no Reflex): ``python -m personalization.api --port 8000``.

For hosts that are not Reflex apps, and for the reliability tests, which run this in a
subprocess so they can kill it hard mid-ingest.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn

from personalization.api.app import create_api
from personalization.service import Personalizer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m personalization.api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default=None, help="database URL (default: ADAPTIVE_DB_URL)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_api(Personalizer(url=args.db))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
