"""``python -m personalization.migrate``: migrate the engine's schema. The command keeps its
documented name; the code lives in ``personalization.store.migrate``."""

from personalization.store.migrate import main

if __name__ == "__main__":
    raise SystemExit(main())
