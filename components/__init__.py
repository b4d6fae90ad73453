"""Adaptive widgets for Reflex apps: each records its own use, draws the layout the engine
decides for the acting person, and says why every item is where it is.

    import reflex_adaptive as adaptive
    adaptive.configure(registry="registry.json")            # or user_resolver=..., etc.
    adaptive.adaptive_toolbar("toolbar", on_command=HostState.run_command)

See docs/components.md for the props and the public DOM contract.
"""

from .config import configure, reset_configuration
from .controls import PersonalControls, personal_controls
from .menu import AdaptiveMenu, adaptive_menu
from .palette import CommandPalette, command_palette
from .region import AdaptiveRegion, adaptive_region
from .shortcuts import KeyboardShortcuts, keyboard_shortcuts
from .state import ANON_PREFIX, AdaptiveState
from .task_panel import AdaptiveTaskPanels, task_panels
from .toolbar import AdaptiveToolbar, adaptive_toolbar
from .why import why_hint

__all__ = [
    "ANON_PREFIX",
    "AdaptiveMenu",
    "AdaptiveRegion",
    "AdaptiveState",
    "AdaptiveTaskPanels",
    "AdaptiveToolbar",
    "CommandPalette",
    "KeyboardShortcuts",
    "PersonalControls",
    "adaptive_menu",
    "adaptive_region",
    "adaptive_toolbar",
    "command_palette",
    "configure",
    "keyboard_shortcuts",
    "personal_controls",
    "reset_configuration",
    "task_panels",
    "why_hint",
]
