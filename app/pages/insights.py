"""Insights for designers: is adaptation helping? Plots of live accuracy, calibration,
churn, task panels, usage and the adaptive-vs-control comparison."""

from __future__ import annotations

import asyncio
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from app import charts
from app.session import SessionState
from app.shell import frame, guarded
from personalization.engine.personalizer import get_personalizer


class InsightsState(rx.State):
    ready: bool = False
    denied: bool = False
    summary: list[str] = []
    usage: go.Figure = go.Figure()
    accuracy: go.Figure = go.Figure()
    calibration: go.Figure = go.Figure()
    churn: go.Figure = go.Figure()
    panels: go.Figure = go.Figure()
    comparison: go.Figure = go.Figure()
    training: bool = False
    training_progress: int = 0
    training_message: str = ""

    @rx.event
    async def load(self):
        account = await (await self.get_state(SessionState)).sync()
        if account is None:
            return rx.redirect("/login")
        self.denied = not account.is_designer
        if self.denied:
            self.ready = False
            return None
        engine = get_personalizer()

        def work() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return engine.live_metrics(), engine.usage_series(days=30)

        metrics, series = await asyncio.to_thread(work)
        self.usage = charts.usage(series)
        self.accuracy = charts.accuracy(metrics)
        self.calibration = charts.calibration(metrics)
        self.churn = charts.churn(metrics)
        self.panels = charts.panels(metrics)
        self.comparison = charts.adaptive_vs_static(metrics)
        overall = metrics.get("overall", {})
        n = overall.get("predictions", 0)
        hit1 = overall.get("hit@1")
        self.summary = [
            f"{n} predictions scored before the event they predicted",
            f"hit@1 {hit1:.0%}" if hit1 is not None else "hit@1 not measured yet",
            f"{len(series)} command-days of usage in the last 30 days",
        ]
        self.ready = True
        return None

    @rx.event(background=True)
    async def retrain(self):
        """Retrain the population prior now; the page shows its progress while requests
        (everyone's workspaces) keep being served from the current model."""
        async with self:
            account = await (await self.get_state(SessionState)).sync()
            if account is None or not account.is_designer or self.training:
                return
            self.training, self.training_progress = True, 0
            self.training_message = "Retraining the population model…"
        engine = get_personalizer()
        future = engine.retrain_population()
        while not future.done():
            await asyncio.sleep(0.25)
            async with self:
                self.training_progress = round(100 * engine.training_status()["progress"])
        status = engine.training_status()
        async with self:
            self.training, self.training_progress = False, 100
            self.training_message = (
                f"Retraining failed: {status['error']}"
                if status["error"]
                else f"Population model retrained (run {status['runs']})."
            )


def _training() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("brain-circuit", size=14),
            "Retrain model",
            on_click=InsightsState.retrain,
            loading=InsightsState.training,
            variant="outline",
            data_testid="retrain",
        ),
        rx.progress(value=InsightsState.training_progress, width="12em"),
        rx.text(InsightsState.training_message, size="2", data_testid="training-message"),
        align="center",
        spacing="3",
    )


def _plot(fig: rx.Var, test_id: str) -> rx.Component:
    return rx.card(rx.plotly(data=fig, width="100%"), width="100%", data_testid=test_id)


def _content() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.foreach(InsightsState.summary, lambda s: rx.badge(s, variant="soft", size="2")),
            rx.spacer(),
            _training(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                on_click=InsightsState.load,
                variant="outline",
            ),
            wrap="wrap",
            width="100%",
        ),
        rx.grid(
            _plot(InsightsState.usage, "plot-usage"),
            _plot(InsightsState.accuracy, "plot-accuracy"),
            _plot(InsightsState.calibration, "plot-calibration"),
            _plot(InsightsState.churn, "plot-churn"),
            _plot(InsightsState.panels, "plot-panels"),
            _plot(InsightsState.comparison, "plot-comparison"),
            columns="2",
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="3",
    )


def page() -> rx.Component:
    return frame(
        rx.heading("Insights", size="6", margin_bottom="0.5em"),
        guarded(
            InsightsState.ready,
            InsightsState.denied,
            _content(),
            "Insights are for designers only.",
        ),
        max_width="1400px",
    )
