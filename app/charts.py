"""Plotly figures for the insights page, built from the engine's live metrics.

Pure functions from plain dicts to figures, so the page state stays thin and the plots can
be checked without a browser. Every figure says what it measures in its title.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go

LAYOUT = {
    "margin": {"l": 40, "r": 10, "t": 50, "b": 40},
    "height": 300,
    "template": "plotly_white",
    "legend": {"orientation": "h", "y": -0.2},
}
TOP_COMMANDS = 8
PANEL_KINDS = (
    "panel_suggested",
    "panel_opened",
    "panel_completed",
    "panel_dismissed",
    "panel_expired",
)


def _figure(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title={"text": title, "font": {"size": 14}}, **LAYOUT)
    return fig


def _note_if_empty(fig: go.Figure, empty: bool, text: str) -> go.Figure:
    """An empty plot says why, instead of showing bare axes."""
    if empty:
        fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    return fig


def usage(series: list[dict[str, Any]]) -> go.Figure:
    """Invocations per day for the most used commands (the rest summed as "other")."""
    totals: dict[str, int] = defaultdict(int)
    for row in series:
        totals[row["command"]] += row["count"]
    top = sorted(totals, key=lambda c: -totals[c])[:TOP_COMMANDS]
    days = sorted({row["day"] for row in series})
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in series:
        name = row["command"] if row["command"] in top else "other"
        per[name][row["day"]] += row["count"]
    fig = _figure("Usage per command per day")
    for name in [*top, "other"]:
        if name in per:
            fig.add_bar(name=name, x=days, y=[per[name].get(d, 0) for d in days])
    fig.update_layout(barmode="stack")
    return fig


def _pct(value: float | None) -> float:
    return round(100 * value, 1) if value is not None else 0.0


def accuracy(metrics: dict[str, Any]) -> go.Figure:
    """Live hit@k (predicted before each event) overall and for new vs experienced users."""
    fig = _figure("Live prediction accuracy: hit@k by user segment (%)")
    groups = {"all users": metrics.get("overall", {}), **metrics.get("segments", {})}
    ks = ["hit@1", "hit@3", "hit@5"]
    for name, data in groups.items():
        n = data.get("predictions", 0)
        fig.add_bar(name=f"{name} (n={n})", x=ks, y=[_pct(data.get(k)) for k in ks])
    fig.update_layout(barmode="group", yaxis={"range": [0, 100]})
    return fig


def calibration(metrics: dict[str, Any]) -> go.Figure:
    """Reliability diagram of the top-1 probability: on the diagonal means honest."""
    cal = metrics.get("calibration", {})
    bins = cal.get("bins", [])
    ece = cal.get("ece")
    title = "Calibration of the top prediction"
    if ece is not None:
        title += f" (ECE {ece:.3f})"
    fig = _figure(title)
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dash", "color": "gray"}
    )
    fig.add_scatter(
        x=[b["predicted"] for b in bins],
        y=[b["observed"] for b in bins],
        mode="lines+markers",
        name="model",
        text=[f"{b['count']} predictions" for b in bins],
        marker={"size": [6 + min(14, b["count"] ** 0.5) for b in bins]},
    )
    fig.update_layout(
        xaxis={"title": "predicted", "range": [0, 1]}, yaxis={"title": "observed", "range": [0, 1]}
    )
    return fig


def churn(metrics: dict[str, Any]) -> go.Figure:
    """Items moved per layout update in each region: low means stable layouts."""
    data = metrics.get("churn", {})
    regions = sorted(data)
    fig = _figure("Layout churn: items moved per update")
    fig.add_bar(
        x=regions,
        y=[round(data[r]["moves_per_update"], 3) for r in regions],
        text=[f"{data[r]['updates']} updates" for r in regions],
        name="moves per update",
    )
    return _note_if_empty(fig, not regions, "No layout updates since the server started")


def panels(metrics: dict[str, Any]) -> go.Figure:
    """Task panel outcomes: how often suggested panels were completed vs dismissed."""
    counts = metrics.get("panels", {})
    fig = _figure("Task panels: outcomes")
    labels = [k.removeprefix("panel_") for k in PANEL_KINDS]
    fig.add_bar(x=labels, y=[counts.get(k, 0) for k in PANEL_KINDS], name="panels")
    return fig


def adaptive_vs_static(metrics: dict[str, Any]) -> go.Figure:
    """Share of clicks whose command was already in the region's visible slots: users with
    adaptation vs the control group who always see the designer layout."""
    found = metrics.get("found_in_slots", {})
    pct = metrics.get("control_percent", 0)
    fig = _figure(f"Adaptive vs static (control group: {pct}% of users)")
    names = ["adaptive", "control"]
    fig.add_bar(
        x=["adaptive layout", "static (control)"],
        y=[_pct(found.get(n, {}).get("rate")) for n in names],
        text=[f"{found.get(n, {}).get('events', 0)} clicks" for n in names],
        name="found in visible slots (%)",
    )
    fig.update_layout(yaxis={"range": [0, 100], "title": "% found in visible slots"})
    clicks = sum(found.get(n, {}).get("events", 0) for n in names)
    return _note_if_empty(fig, clicks == 0, "No clicks in adaptive regions recorded yet")
