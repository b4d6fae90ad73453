"""The insights figures are built from a real engine's metrics and show their data."""

from __future__ import annotations

from app import charts
from app.registry import demo_registry
from personalization.engine.personalizer import Personalizer


def test_every_insights_figure_plots_live_metrics(tmp_path):
    engine = Personalizer(
        url=f"sqlite:///{tmp_path / 'c.db'}",
        registry=demo_registry(),
        control_percent=0,
        metrics_sample=1.0,  # score every event: 30 of them at the default 10% is a coin toss
    )
    engine.layout("alice", "toolbar")
    for command in ["save", "undo", "crop", "save", "undo", "crop"] * 5:
        engine.record_command("alice", command, region="toolbar")
    engine.layout("alice", "toolbar")
    metrics = engine.live_metrics()
    usage = charts.usage(engine.usage_series())
    assert {trace.name for trace in usage.data} >= {"save", "undo", "crop"}
    accuracy = charts.accuracy(metrics)
    assert accuracy.data and max(max(t.y) for t in accuracy.data) > 50  # a 3-cycle is learnt
    assert charts.calibration(metrics).data
    churn = charts.churn(metrics)
    assert list(churn.data[0].x) == ["toolbar"] and not churn.layout.annotations
    versus = charts.adaptive_vs_static(metrics)
    assert versus.data[0].y[0] > 0 and not versus.layout.annotations
    assert charts.panels(metrics).data


def test_empty_figures_explain_themselves(tmp_path):
    metrics = Personalizer(url=f"sqlite:///{tmp_path / 'e.db'}").live_metrics()
    assert charts.churn(metrics).layout.annotations[0].text.startswith("No layout updates")
    assert charts.adaptive_vs_static(metrics).layout.annotations
