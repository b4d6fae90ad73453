"""``python -m personalization.training``: retrain the population model once. The command keeps
its documented name; the code lives in ``personalization.predict.training``."""

from personalization.predict.training import main

if __name__ == "__main__":
    raise SystemExit(main())
