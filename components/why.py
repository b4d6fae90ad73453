""" "Why is this here?": the reason sentence for an adapted item, on hover, on keyboard focus
and for screen readers.

People distrust adaptive layouts that look random; one honest sentence per item is the
cheapest fix. The tooltip shows on hover and focus (Radix), and a visually hidden copy is
linked with ``aria-describedby`` so a screen reader reads it with the item's name.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var


def why_id(region_id: str | Var[str], command: str | Var[str]) -> Var[str]:
    """A DOM id unique per region and command, for ``aria-describedby``."""
    return Var.create("adaptive-why-") + Var.create(region_id) + "-" + Var.create(command)


def why_text(sentence: str | Var[str], *, element_id: Var[str] | str) -> rx.Component:
    """The visually hidden description a screen reader announces with the item."""
    return rx.el.span(sentence, id=element_id, class_name="adaptive-sr-only")


def with_why(trigger: rx.Component, sentence: str | Var[str]) -> rx.Component:
    """Show ``sentence`` when ``trigger`` is hovered or focused."""
    return rx.tooltip(trigger, content=sentence, delay_duration=300)


def why_hint(sentence: str | Var[str], *, label: str = "Why is this here?") -> rx.Component:
    """A small "?" affordance for places without a focusable item (touch screens)."""
    return with_why(
        rx.el.button(
            "?",
            type="button",
            aria_label=label,
            class_name="adaptive-why-hint",
            custom_attrs={"data-why": ""},
        ),
        sentence,
    )
