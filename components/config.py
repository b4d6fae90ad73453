"""How a host app plugs the widgets into its own identity and engine.

Identity is decided on the server, never taken from the browser: every widget event asks the
configured ``user_resolver`` (an async callable given the widget state) who is acting, so a
tampered event cannot act for someone else. Without a resolver each browser gets an anonymous
random id kept in a cookie; hosts with accounts pass a resolver that reads their auth state.

The engine is ``personalization.engine.personalizer.get_personalizer()`` unless the host
configures its own instance or only a registry (then one engine with that registry is created
on first use, so an embedding app can bring ~10 commands of its own without touching the
database set-up).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalization.engine.personalizer import Personalizer, get_personalizer, set_personalizer
from personalization.registry import Registry

if TYPE_CHECKING:
    from .state import AdaptiveState

UserResolver = Callable[["AdaptiveState"], Awaitable[str | None]]


@dataclass(slots=True)
class _Settings:
    user_resolver: UserResolver | None = None
    registry: Registry | None = None
    personalizer: Personalizer | None = None
    created: bool = False


_settings = _Settings()
_lock = threading.Lock()


def configure(
    *,
    user_resolver: UserResolver | None = None,
    registry: Registry | Mapping[str, Any] | str | Path | None = None,
    personalizer: Personalizer | None = None,
) -> None:
    """Set how the widgets find the acting user and the engine; call once at import time.

    ``user_resolver(state)`` returns the user id or ``None`` (nobody signed in: the widgets
    then show the designer default and record nothing). ``registry`` is a :class:`Registry`,
    its dict, its JSON text or a path to a JSON file; it is validated now so a bad file fails
    at start-up with every bad field named. Passing both ``registry`` and ``personalizer`` is
    ambiguous and refused.
    """
    if registry is not None and personalizer is not None:
        raise ValueError("configure(): pass either registry= or personalizer=, not both")
    if user_resolver is not None and not callable(user_resolver):
        raise TypeError(f"configure(): user_resolver must be callable, got {user_resolver!r}")
    with _lock:
        _settings.user_resolver = user_resolver
        _settings.registry = _load_registry(registry) if registry is not None else None
        _settings.personalizer = personalizer
        _settings.created = False
        if personalizer is not None:
            set_personalizer(personalizer)


def reset_configuration() -> None:
    """Back to the defaults (anonymous cookie identity, process-wide engine)."""
    with _lock:
        _settings.user_resolver = None
        _settings.registry = None
        _settings.personalizer = None
        _settings.created = False


def user_resolver() -> UserResolver | None:
    return _settings.user_resolver


def personalizer() -> Personalizer:
    """The engine the widgets talk to (created on first use when only a registry was set)."""
    with _lock:
        if _settings.personalizer is not None:
            return _settings.personalizer
        if _settings.registry is not None and not _settings.created:
            set_personalizer(Personalizer(registry=_settings.registry))
            _settings.created = True
    return get_personalizer()


def registry() -> Registry:
    """The registry ``create()`` checks props against, without starting an engine if the host
    configured the registry itself (page compilation stays free of database work)."""
    if _settings.personalizer is not None:
        return _settings.personalizer.registry
    if _settings.registry is not None:
        return _settings.registry
    return get_personalizer().registry


def _load_registry(value: Registry | Mapping[str, Any] | str | Path) -> Registry:
    if isinstance(value, Registry):
        return value
    if isinstance(value, Path):
        return Registry.from_json(value.read_text(encoding="utf-8"))
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return Registry.from_json(text)
        return Registry.from_json(Path(value).read_text(encoding="utf-8"))
    if isinstance(value, Mapping):
        return Registry.from_dict(json.loads(json.dumps(value)))
    raise TypeError(f"configure(): registry must be a Registry, dict, JSON or path, got {value!r}")
