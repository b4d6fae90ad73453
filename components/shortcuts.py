"""Page-wide keys: Ctrl+K / Cmd+K opens the palette, Esc closes the nearest adaptive popup or
task panel (the focused one, else the newest; a pinned panel only closes with its button).

Handled in the browser by clicking the widgets' own buttons, so a key press costs no server
round trip unless it does something, and a key does exactly what the visible button does
(same recording, same host callback). Esc is left to an open dialog, which closes itself.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import Var

_HOOK = """
useEffect(() => {
  if (typeof window === 'undefined') return;
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'k' || e.key === 'K')) {
      const trigger = document.querySelector('[data-palette-trigger]');
      if (trigger) { e.preventDefault(); trigger.click(); }
      return;
    }
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    if (document.querySelector('[role=dialog]')) return;
    const popup = document.querySelector('[data-adaptive-toggle][aria-expanded=true]');
    if (popup) { popup.click(); popup.focus(); return; }
    const open = '[data-task-panel]:not([data-task-state=pinned])';
    const focused = document.activeElement && document.activeElement.closest(open);
    const panels = Array.from(document.querySelectorAll(open));
    const panel = focused || panels[panels.length - 1];
    const close = panel && panel.querySelector('[data-action=close]');
    if (close) close.click();
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}, []);
"""


class KeyboardShortcuts(rx.Fragment):
    """Renders nothing; installs one window ``keydown`` listener."""

    def add_hooks(self) -> list[str | Var[Any]]:
        return [Var(_HOOK)]


keyboard_shortcuts = KeyboardShortcuts.create
