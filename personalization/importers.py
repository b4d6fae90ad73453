"""``python -m personalization.importers``: import usage logs (csv, jsonl, msnbc). The command
keeps its documented name; the code lives in ``personalization.evaluation.importers``."""

from personalization.evaluation.importers import main

if __name__ == "__main__":
    raise SystemExit(main())
