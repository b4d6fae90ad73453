"""Next-command predictors behind one contract (see ``base.Predictor``).

``BASELINES`` maps each baseline's name to its class; ``default_predictor`` builds the
learned model as production uses it.
"""

from __future__ import annotations

from collections.abc import Sequence

from personalization.predict.base import Predictor, RankedCounter
from personalization.predict.baselines import (
    IPAM,
    ContextBlend,
    ContextBlend3,
    Frecency,
    Markov,
    MostFrequent,
    MostRecent,
)
from personalization.predict.learned import DEFAULT_SCORER, LearnedPredictor, Scorer
from personalization.predict.population import PopulationModel
from personalization.types import CommandMeta

BASELINES: dict[str, type[Predictor]] = {
    cls.name: cls
    for cls in (MostFrequent, MostRecent, Frecency, Markov, IPAM, ContextBlend3, ContextBlend)
}


def default_predictor(
    commands: Sequence[CommandMeta] = (),
    population: PopulationModel | None = None,
    scorer: Scorer | None = None,
) -> LearnedPredictor:
    """The learned model as production runs it: the catalogue lets never-used commands be
    ranked, ``population`` (from ``PopulationTrainer``) carries new users, and the shipped
    scorer is used until a trained one is given."""
    return LearnedPredictor(commands=commands, population=population, scorer=scorer)


__all__ = [
    "BASELINES",
    "ContextBlend",
    "ContextBlend3",
    "DEFAULT_SCORER",
    "Frecency",
    "IPAM",
    "LearnedPredictor",
    "Markov",
    "MostFrequent",
    "MostRecent",
    "PopulationModel",
    "Predictor",
    "RankedCounter",
    "Scorer",
    "default_predictor",
]
