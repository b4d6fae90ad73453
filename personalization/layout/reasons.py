"""Reason codes for every placed item, and the sentence a person sees for "why is this here?".

People distrust adaptive menus that look random (Office 2000); a short, honest reason on
every adapted place is the cheapest fix. Codes are stable strings for the API and logs; the
sentences are for people and may be reworded freely.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    PINNED = "PINNED"  # the designer pinned it
    USER_PINNED = "USER_PINNED"  # the person pinned it
    PREDICTED = "PREDICTED"  # the model expects it next
    FREQUENT = "FREQUENT"  # the person uses it often
    RECENT = "RECENT"  # the person used it lately
    DEFAULT = "DEFAULT"  # the designer's order
    EXPLORATION = "EXPLORATION"  # shown now and then to learn whether it helps
    OVERFLOW = "OVERFLOW"  # no room: reachable under "More" and in the palette
    USER_HIDDEN = "USER_HIDDEN"  # the person hid it
    HIDDEN_UNUSED = "HIDDEN_UNUSED"  # not used for a long time / very unlikely


def _pct(probability: float | None) -> str:
    return f"{round((probability or 0.0) * 100)}%"


def sentence(
    reason: Reason,
    *,
    label: str,
    probability: float | None = None,
    model_reason: str | None = None,
    after_label: str | None = None,
    count: int = 0,
    days: float | None = None,
    personalization_off: bool = False,
) -> str:
    """A human sentence for one item. ``model_reason`` is the predictor's code (SEQUENCE,
    POPULAR, ...) so a prediction can say *what* it is based on."""
    if personalization_off:
        if reason is Reason.OVERFLOW:
            return f"{label} is under More (personalization is off)."
        return "Designer's default place (personalization is off)."
    if reason is Reason.PINNED:
        return "Always here: pinned by the app's designer."
    if reason is Reason.USER_PINNED:
        return "Here because you pinned it."
    if reason is Reason.PREDICTED:
        pct = _pct(probability)
        if model_reason == "SEQUENCE" and after_label:
            return (
                f"Suggested because you usually run this after {after_label} ({pct} likely next)."
            )
        if model_reason == "POPULAR":
            return f"Suggested because people often use it at this point ({pct} likely next)."
        if model_reason == "CONTEXT":
            return f"Suggested for what you are doing now ({pct} likely next)."
        if model_reason == "RECENT":
            return f"Suggested because you used it recently ({pct} likely next)."
        if model_reason == "FREQUENT":
            return f"Suggested because you use it often ({pct} likely next)."
        return f"Suggested: {pct} likely to be your next command."
    if reason is Reason.FREQUENT:
        times = "once" if count == 1 else f"{count} times"
        return f"Here because you use it often ({times} so far)."
    if reason is Reason.RECENT:
        return "Here because you used it recently."
    if reason is Reason.EXPLORATION:
        return "Trying this suggestion to learn whether it helps you; it will move if unused."
    if reason is Reason.USER_HIDDEN:
        return f"You hid {label}; it stays under More and in the command palette."
    if reason is Reason.HIDDEN_UNUSED:
        if days is not None:
            return f"Moved to More because you haven't used it in {days:g} days."
        return "Moved to More because you rarely use it."
    if reason is Reason.OVERFLOW:
        return f"{label} is under More and in the command palette (no room on screen)."
    return "Designer's default place."
