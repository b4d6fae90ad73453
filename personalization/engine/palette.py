"""The command palette: every command, hidden ones included, so nothing adaptation hides is
ever out of reach. An entry the layout does not show says why (hidden by you, unused, or no
room), which is what lets people trust that hiding is not losing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from personalization.engine.views import PaletteEntry
from personalization.layout.decide import LayoutItem
from personalization.registry import Registry
from personalization.types import Prediction


def palette_entries(
    *,
    registry: Registry,
    predictions: Iterable[Prediction],
    hidden: Mapping[str, LayoutItem],
    query: str = "",
    limit: int = 50,
) -> list[PaletteEntry]:
    """Commands matching ``query`` (id, label, group or keyword), most likely first.
    ``hidden`` maps each command no region shows to the layout item that says why."""
    needle = query.strip().lower()
    probs = {p.command: p for p in predictions}
    entries = []
    for cmd in registry.commands:
        haystack = " ".join((cmd.id, cmd.label, cmd.group, *cmd.keywords)).lower()
        if needle and needle not in haystack:
            continue
        pred = probs.get(cmd.id)
        probability = pred.probability if pred is not None else 0.0
        away = hidden.get(cmd.id)
        if away is not None:
            reason, why = str(away.reason), away.sentence
        elif pred is not None:
            reason, why = "PREDICTED", f"{round(probability * 100)}% likely next."
        else:
            reason, why = "DEFAULT", "Not used yet."
        entries.append(
            PaletteEntry(
                command=cmd.id,
                label=cmd.label or cmd.id,
                group=cmd.group,
                icon=cmd.icon or "",
                probability=probability,
                hidden=away is not None,
                reason=reason,
                sentence=why,
            )
        )
    entries.sort(key=lambda e: (-e.probability, e.label.lower()))
    return entries[:limit]
