"""``python -m personalization.evaluate``: measure predictors on a dataset. The command keeps
its documented name; the code lives in ``personalization.evaluation.evaluate``."""

from personalization.evaluation.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
