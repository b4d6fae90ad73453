"""The replay simulation: hand-checkable logs, the CLI contract, and a small real slice."""

from __future__ import annotations

import json
import string

import pytest

from personalization.evaluation.datasets import schonlau, write_csv
from personalization.evaluation.simulate import AdaptiveConfig, main, replay_user, simulate
from personalization.predict import BASELINES
from personalization.types import Event

CYCLE = list(string.ascii_lowercase[:10])  # a..j repeated: perfectly predictable order


def test_cycle_log_metrics_match_hand_computation() -> None:
    log = CYCLE * 5
    result = replay_user(
        "u", log, slots=4, predictor_factory=BASELINES["markov"], config=AdaptiveConfig()
    )
    static = result.tallies["static"].summary()
    # static = first four commands ever used; they come back once per later cycle
    assert static["found_in_slots"] == pytest.approx(16 / 50)
    assert static["mean_position"] == pytest.approx(2.5)
    assert static["churn_per_100"] == pytest.approx(100 * 4 / 50)  # a..d entering, once
    frecency = result.tallies["frecency"].summary()
    # the next command of a 10-cycle is always the least recently used: never in a top 4
    assert frecency["found_in_slots"] == 0.0
    adaptive = result.tallies["adaptive"].summary()
    assert adaptive["found_in_slots"] >= 0.7  # everything after the first cycle or so
    assert adaptive["churn_per_100"] < frecency["churn_per_100"]
    assert all(t.events == 50 for t in result.tallies.values())


def test_adaptive_with_no_confident_guess_keeps_the_first_use_order() -> None:
    log = CYCLE * 3
    never = AdaptiveConfig(min_confidence=1.0, hysteresis=1.0)
    result = replay_user("u", log, slots=4, predictor_factory=BASELINES["markov"], config=never)
    assert result.tallies["adaptive"].summary() == result.tallies["static"].summary()


def test_cli_on_a_csv_log_writes_the_stable_json(tmp_path, capsys) -> None:
    events = [Event(f"user{u}", c, float(t)) for u in (1, 2) for t, c in enumerate(CYCLE * 4)]
    log = tmp_path / "log.csv"
    write_csv(log, events)
    out = tmp_path / "report.json"
    args = ["--dataset", str(log), "--slots", "4", "--json", str(out), "--model", "markov"]
    assert main([*args, "--workers", "2"]) == 0
    report = json.loads(out.read_text())
    assert report["dataset"] == str(log) and report["slots"] == 4
    assert report["users"] == 2 and report["events"] == 80
    assert set(report["policies"]) == {"static", "frecency", "adaptive"}
    for row in report["policies"].values():
        assert {"found_in_slots", "mean_position", "churn_per_100"} <= set(row)
    captured = capsys.readouterr()
    assert json.loads(captured.out) == report
    assert "ev" in captured.err  # the progress bar goes to stderr
    assert main([*args, "--workers", "1"]) == 0  # process pool or not, same numbers
    assert json.loads(out.read_text()) == report


def test_cli_errors_name_the_bad_option(tmp_path) -> None:
    with pytest.raises(SystemExit, match="--dataset: 'nowhere.csv' is neither"):
        main(["--dataset", "nowhere.csv"])
    log = tmp_path / "log.csv"
    write_csv(log, [Event("u", "a", 1.0)])
    with pytest.raises(SystemExit, match="--model: unknown model 'psychic'"):
        main(["--dataset", str(log), "--model", "psychic", "--workers", "1"])


def test_real_slice_adaptive_beats_frecency_with_less_churn() -> None:
    logs = [(user, [e.command for e in events[:600]]) for user, events in schonlau(users=2)]
    policies = simulate(logs, slots=8, model="context_blend", workers=1, progress=False)
    adaptive, frecency = policies["adaptive"], policies["frecency"]
    assert adaptive["found_in_slots"] > frecency["found_in_slots"]
    assert adaptive["churn_per_100"] < frecency["churn_per_100"]
    assert 1.0 <= adaptive["mean_position"] <= 8.0
