"""Running the host's ``on_command=`` handler inside the widget's own event.

Chained after the widget's event, the host's handler would cost a second round trip before
the person sees their command take effect. So a widget passes the handler by name
(:func:`host_reference`) and :meth:`AdaptiveState.invoke_then` runs it first, in the same
event, on the host's own state. Only handlers that could run that way anyway qualify: the
browser may send any of the app's handlers an event with any argument, so naming one opens
nothing new.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import reflex as rx
from reflex.event import EventHandler

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def host_reference(on_command: Any) -> str | None:
    """The name under which ``invoke_then`` runs ``on_command`` itself, or ``None`` when it
    must stay a chained event: a background task, a generator (it streams its own
    updates), an event with client-side actions, or not one argument."""
    if not isinstance(on_command, EventHandler) or on_command.state is None:
        return None
    reference = f"{on_command.state.get_full_name()}.{getattr(on_command.fn, '__name__', '')}"
    handler = _host_handler(reference)
    if handler is None or handler.fn is not on_command.fn or on_command.event_actions:
        return None
    return reference


@functools.lru_cache(maxsize=256)
def _host_handler(reference: str) -> EventHandler | None:
    """The app's event handler named ``reference``, if it can run inside another event
    (cached: every click names it again, the answer never changes in a process)."""
    path, _, name = reference.rpartition(".")
    try:
        state_cls = rx.State.get_class_substate(path)
    except ValueError:
        return None
    handler = state_cls.event_handlers.get(name)
    if handler is None or handler.is_background or handler.event_actions:
        return None
    fn = handler.fn
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return None
    params = list(inspect.signature(fn).parameters.values())[1:]
    required = [p for p in params if p.default is inspect.Parameter.empty]
    if not params or len(required) > 1 or params[0].kind not in _POSITIONAL:
        return None
    return handler


async def run_host(state: rx.State, reference: str, command: str) -> Any:
    """Run the host's handler on its own state, in ``state``'s event: its changes go out in
    the same update as the widget's, and what it returns (a redirect, a toast) still runs."""
    handler = _host_handler(reference)
    if handler is None or handler.state is None:
        return None
    target = await state.get_state(handler.state)
    result = handler.fn(target, command)
    if inspect.isawaitable(result):
        result = await result
    return result
