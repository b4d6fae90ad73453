"""Checks every widget's ``create()`` runs, so a wrong prop fails when the page is built,
naming the widget, the prop and what is allowed, instead of rendering an empty region."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reflex.event import EventHandler
from reflex.vars import Var

from personalization.registry import Region

from . import config
from .host_handler import host_reference
from .state import AdaptiveState

OnCommand = EventHandler | Callable[[Var[str]], Any] | None


def check_region(widget: str, region_id: Any) -> Region:
    if not isinstance(region_id, str) or not region_id:
        raise TypeError(f"{widget}: region_id must be a non-empty string, got {region_id!r}")
    registry = config.registry()
    try:
        return registry.region(region_id)
    except KeyError:
        known = ", ".join(r.id for r in registry.regions) or "(none)"
        raise ValueError(
            f"{widget}: unknown region {region_id!r} in registry {registry.name!r}; "
            f"known regions: {known}"
        ) from None


def check_slots(widget: str, slots: Any) -> int | None:
    if slots is None:
        return None
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        raise ValueError(f"{widget}: slots must be a positive integer (or None), got {slots!r}")
    return slots


def check_on_command(widget: str, on_command: Any) -> OnCommand:
    if on_command is None or isinstance(on_command, EventHandler) or callable(on_command):
        return on_command
    raise TypeError(
        f"{widget}: on_command must be an event handler taking the command id "
        f"(e.g. HostState.run_command), got {on_command!r}"
    )


def check_text(widget: str, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{widget}: {name} must be a string, got {value!r}")
    return value


def command_events(region_id: str, command: Var[str], on_command: OnCommand) -> list[Any]:
    """Record first (the widget's own job), then hand the command id to the host.

    A plain host handler runs inside the widget's own event (one round trip, one update);
    anything else (a callable, a background or streaming handler) follows as its own
    event, as Reflex chains them."""
    if (host := host_reference(on_command)) is not None:
        return [AdaptiveState.invoke_then(region_id, command, host)]
    events: list[Any] = [AdaptiveState.invoke(region_id, command)]
    if on_command is not None:
        host = on_command(command)
        if isinstance(host, list | tuple):
            events.extend(host)
        elif host is not None:
            events.append(host)
    return events
