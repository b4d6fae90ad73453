"""``python -m personalization.simulate``: simulate layout policies on a dataset. The command
keeps its documented name; the code lives in ``personalization.evaluation.simulate``."""

from personalization.evaluation.simulate import main

if __name__ == "__main__":
    raise SystemExit(main())
