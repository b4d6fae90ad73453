"""The few style rules the widgets need, shipped inside them so a host adds no stylesheet.

Rules are plain CSS in one ``<style>`` element (repeating it per widget is harmless). No
quotes or ``>`` in selectors: the text is server-rendered and must survive HTML escaping.
Motion is short and respects ``prefers-reduced-motion``.
"""

from __future__ import annotations

import reflex as rx

CSS = """
.adaptive-sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
clip:rect(0,0,0,0);white-space:nowrap;border:0}
.adaptive-bar{display:flex;align-items:center;gap:.4rem;flex-wrap:wrap;position:relative}
.adaptive-items{display:flex;align-items:center;gap:.4rem;min-height:2.25rem;margin:0;padding:0;
list-style:none}
.adaptive-items.adaptive-vertical{flex-direction:column;align-items:stretch}
.adaptive-skeleton{display:flex;gap:.4rem;min-height:2.25rem;align-items:center}
.adaptive-skeleton.adaptive-vertical{flex-direction:column;align-items:stretch}
.adaptive-skeleton-item{width:var(--adaptive-slot-width,6.5rem);height:2rem;border-radius:6px;
background:var(--gray-a4);animation:adaptive-pulse 1.4s ease-in-out infinite}
@keyframes adaptive-pulse{0%,100%{opacity:.5}50%{opacity:1}}
.adaptive-divider{width:1px;align-self:stretch;background:var(--gray-a6);margin:0 .2rem}
.adaptive-vertical .adaptive-divider{width:auto;height:1px;margin:.2rem 0}
.adaptive-zone-label{font-size:.7rem;color:var(--gray-a10);text-transform:uppercase;
letter-spacing:.04em}
.adaptive-item[data-zone=suggested]{box-shadow:inset 0 0 0 1px var(--accent-a7)}
.adaptive-overflow{position:relative}
.adaptive-overflow-list{position:absolute;z-index:20;top:calc(100% + 4px);right:0;min-width:13rem;
background:var(--color-panel-solid);border:1px solid var(--gray-a6);border-radius:8px;
padding:.3rem;margin:0;list-style:none;box-shadow:var(--shadow-4);display:flex;
flex-direction:column;gap:.15rem}
.adaptive-overflow-list[hidden],.adaptive-menu-list[hidden]{display:none}
.adaptive-menu{position:relative;display:inline-block}
.adaptive-menu-list{position:absolute;z-index:20;top:calc(100% + 4px);left:0;min-width:14rem;
background:var(--color-panel-solid);border:1px solid var(--gray-a6);border-radius:8px;
padding:.4rem;box-shadow:var(--shadow-4)}
.adaptive-region-child{display:contents}
.adaptive-panel-stack{position:fixed;right:1rem;bottom:1rem;display:flex;flex-direction:column;
gap:.75rem;z-index:30;width:min(22rem,calc(100vw - 2rem))}
.adaptive-panel{animation:adaptive-enter 220ms ease-out both}
.adaptive-panel[data-task-state=completed]{animation:adaptive-dissolve 3s ease-in forwards}
@keyframes adaptive-enter{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}
@keyframes adaptive-dissolve{0%,55%{opacity:1;transform:none}
100%{opacity:0;transform:translateY(6px) scale(.98)}}
.adaptive-steps{margin:.25rem 0;padding:0;list-style:none;display:flex;flex-direction:column;
gap:.2rem}
.adaptive-palette-list{list-style:none;margin:.5rem 0 0;padding:0;max-height:22rem;overflow:auto}
.adaptive-palette-option{display:flex;justify-content:space-between;gap:.75rem;padding:.4rem .6rem;
border-radius:6px;cursor:pointer}
.adaptive-palette-option[aria-selected=true]{background:var(--accent-a4)}
@media (prefers-reduced-motion:reduce){.adaptive-panel,.adaptive-skeleton-item,
.adaptive-panel[data-task-state=completed]{animation:none}}
"""


def adaptive_styles() -> rx.Component:
    """The widgets' style rules as one ``<style>`` element."""
    return rx.el.style(CSS)
