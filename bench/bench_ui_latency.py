"""Click-to-updated-layout latency in Chromium, against a no-op Reflex round trip.

Both are measured the same way inside the page: click a button, then wait (MutationObserver)
for the attribute the server's answer changes. The no-op event only increments a counter;
a toolbar click goes through the adaptive widget exactly as a person's would: the widget
records the use, advances the task panels and re-decides the other regions on the page
whose policy allows a change now, then the workspace applies the command to the document
(in the same event). A third path runs the same command on the workspace directly (a
hidden button, no widget): the host's own work, so ``command - direct`` is what the
adaptation itself adds. Rounds alternate between the paths so a busy machine slows all
alike; overheads are differences of medians.

    .venv/bin/python bench/bench_ui_latency.py [--rounds 40] [--url http://host:port]

Without ``--url`` it bootstraps a throw-away database and serves the app in production
mode (like the browser tests) for the run, then stops it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.support.reflex_server import PROJECT_ROOT, ReflexServer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# Click `selector`, resolve when `watch`'s `attr` differs from its value before the click.
TIMED_CLICK = """async ([selector, watch, attr]) => {
  const target = document.querySelector(watch);
  const before = target.getAttribute(attr);
  const done = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      const el = document.querySelector(watch);
      if (el && el.getAttribute(attr) !== before) { obs.disconnect(); resolve(); }
    });
    obs.observe(document.body, {attributes: true, subtree: true, childList: true});
  });
  const t0 = performance.now();
  document.querySelector(selector).click();
  await done;
  return performance.now() - t0;
}"""
NOOP = ("[data-testid=noop]", "[data-testid=noop]", "data-noops")
DIRECT = ("[data-testid=direct-save]", "[data-testid=doc-status]", "data-handled")
COMMAND = (
    "[data-region=toolbar] button[data-command=save]",
    "[data-testid=doc-status]",
    "data-handled",
)


def measure(page: Page, rounds: int) -> dict[str, list[float]]:
    paths = {"noop": NOOP, "direct": DIRECT, "command": COMMAND}
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(3):  # warm up every path
        for path in paths.values():
            page.evaluate(TIMED_CLICK, list(path))
    for _ in tqdm(range(rounds), desc="click rounds", file=sys.stderr):
        for name, path in paths.items():
            times[name].append(page.evaluate(TIMED_CLICK, list(path)))
    return times


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def run(url: str, rounds: int) -> dict[str, object]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        page.goto(url + "/login")
        page.locator("input[name=username]").fill("alice")
        page.locator("input[name=password]").fill("alice-demo")
        page.get_by_test_id("submit").click()
        page.wait_for_url("**/workspace", timeout=60_000)
        page.locator(COMMAND[0]).wait_for(timeout=60_000)
        times = measure(page, rounds)
        browser.close()
    noop, direct, command = (summary(times[k]) for k in ("noop", "direct", "command"))
    overhead = command["median_ms"] - noop["median_ms"]
    widget = command["median_ms"] - direct["median_ms"]
    return {
        "rounds": rounds,
        "noop": noop,
        "direct": direct,
        "command": command,
        "adaptation_overhead_ms": round(overhead, 2),
        "adaptation_overhead_pct_of_noop": round(100 * overhead / noop["median_ms"], 1),
        # What the widget adds over the host running the same command by itself.
        "widget_overhead_ms": round(widget, 2),
        "widget_overhead_pct_of_noop": round(100 * widget / noop["median_ms"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--url", help="an app already running (with the demo accounts)")
    args = parser.parse_args(argv)
    if args.url:
        result = run(args.url.rstrip("/"), args.rounds)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server = ReflexServer(
                PROJECT_ROOT,
                Path(tmp) / "server.log",
                env={"ADAPTIVE_DB_URL": f"sqlite:///{tmp}/bench.db"},
            )
            server.run_module("app.bootstrap")
            server.start()
            try:
                result = run(server.url, args.rounds)
            finally:
                server.stop()
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_ui_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
