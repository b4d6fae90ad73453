"""``python -m personalization.keys``: manage api keys. The command keeps its documented name;
the code lives in ``personalization.api.keys``."""

from personalization.api.keys import main

if __name__ == "__main__":
    raise SystemExit(main())
