"""The demo editor's registry: its commands, regions and task panels.

It is the host app's declaration, not the engine's, so it lives here as the JSON a designer
would write (``registry.json``, in the registry's own format) rather than as code in the
engine. ``app.bootstrap`` publishes it to the database before the server starts; serving
workers then use the newest stored version, which a designer may since have edited in the
app. The tests and benchmarks load the same file as their rich example registry.
"""

from __future__ import annotations

from pathlib import Path

from personalization.registry import Registry

REGISTRY_PATH = Path(__file__).with_name("registry.json")


def demo_registry() -> Registry:
    """A fresh parse of ``registry.json``; a bad edit fails here with every bad field named."""
    return Registry.from_json(REGISTRY_PATH.read_text(encoding="utf-8"))
