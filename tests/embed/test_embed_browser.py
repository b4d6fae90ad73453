"""The widgets embedded in examples/embed, driven in headless Chromium.

Each test gets a fresh browser context, so a fresh anonymous person (cookie) with no history.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TOOLBAR_ITEMS = "[data-region=toolbar] [data-command]"
TIMEOUT = 30_000

# Records every distinct toolbar order the page ever showed, from the very first paint.
WATCH_ORDER = """
window.__orders = [];
const seen = () => {
  const ids = Array.from(document.querySelectorAll('[data-region=toolbar] [data-command]'))
    .map((el) => el.getAttribute('data-command')).join(',');
  const last = window.__orders[window.__orders.length - 1];
  if (ids && ids !== last) window.__orders.push(ids);
};
new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true});
"""


def visible_order(page) -> list[str]:
    return page.locator(TOOLBAR_ITEMS).evaluate_all(
        "els => els.map(e => e.getAttribute('data-command'))"
    )


def open_app(page, server) -> None:
    page.goto(server.url + "/")
    page.locator(TOOLBAR_ITEMS).first.wait_for(timeout=60_000)


def run_from_palette(page, query: str, command: str) -> None:
    """Keyboard only: Ctrl+K, type, Enter."""
    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox", name="Search commands")
    box.wait_for(timeout=TIMEOUT)
    box.fill(query)
    first = page.locator("[data-palette] [role=option][aria-selected=true]")
    first.and_(page.locator(f"[data-command={command}]")).wait_for(timeout=TIMEOUT)
    page.keyboard.press("Enter")
    page.locator("[data-palette]").wait_for(state="detached", timeout=TIMEOUT)
    last = page.get_by_test_id("last-command")
    page.wait_for_function(
        "c => document.querySelector('[data-testid=last-command]').textContent === c",
        arg=command,
        timeout=TIMEOUT,
    )
    assert last.inner_text() == command


def test_layout_reorders_after_use_and_designer_pin_stays(embed_server, page, artifacts_dir):
    page.add_init_script(WATCH_ORDER)
    open_app(page, embed_server)
    default = visible_order(page)
    assert default[0] == "save" and "export" not in default
    assert page.locator("[data-overflow=toolbar] [data-command=export]").count() == 1
    assert (
        page.locator("[data-region=toolbar] [data-command=save]").get_attribute("data-reason")
        == "PINNED"
    )

    for _ in range(6):
        run_from_palette(page, "expo", "export")
    # Never while interacting: nothing moved under the person during the session so far.
    assert visible_order(page) == default

    # Page loads may adapt, each by at most the policy's max_moves; a brand-new history
    # gives the model low confidence, so allow a few loads for it to reach the toolbar.
    for _ in range(3):
        page.reload()
        page.locator(TOOLBAR_ITEMS).first.wait_for(timeout=TIMEOUT)
        page.wait_for_load_state("networkidle")
        after = visible_order(page)
        # First paint already showed this person's order: no old order, then a jump.
        orders = page.evaluate("window.__orders")
        assert orders == [",".join(after)], orders
        if "export" in after:
            break
    page.screenshot(path=str(artifacts_dir / "embed-reordered.png"), full_page=True)
    assert "export" in after, after
    assert after[0] == "save"
    assert after != default
    export = page.locator("[data-region=toolbar] [data-command=export]")
    assert export.get_attribute("data-reason") == "PREDICTED"
    assert export.get_attribute("data-zone") == "suggested"


def test_hidden_item_reachable_through_overflow_and_palette(embed_server, page, artifacts_dir):
    open_app(page, embed_server)
    assert "undo" in visible_order(page)
    page.locator("[data-control=hide][data-control-command=undo]").click()
    hidden = page.locator("[data-overflow=toolbar] [data-command=undo]")
    hidden.wait_for(state="attached", timeout=TIMEOUT)
    assert "undo" not in visible_order(page)
    assert hidden.get_attribute("data-reason") == "USER_HIDDEN"

    toggle = page.locator("[data-overflow=toolbar] [data-adaptive-toggle]")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    hidden.wait_for(state="visible", timeout=TIMEOUT)
    page.screenshot(path=str(artifacts_dir / "embed-overflow-open.png"))
    hidden.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=last-command]').textContent === 'undo'",
        timeout=TIMEOUT,
    )

    page.keyboard.press("Control+k")
    page.get_by_role("combobox", name="Search commands").fill("undo")
    option = page.locator("[data-palette] [data-command=undo]")
    option.wait_for(timeout=TIMEOUT)
    assert option.get_attribute("data-hidden") == "true"
    page.screenshot(path=str(artifacts_dir / "embed-palette-hidden.png"))
    page.keyboard.press("Escape")
    page.locator("[data-palette]").wait_for(state="detached", timeout=TIMEOUT)

    # A person's own pin shows at once and survives a reload.
    page.locator("[data-control=pin][data-control-command=export]").click()
    pinned = page.locator("[data-region=toolbar] [data-command=export]")
    pinned.wait_for(timeout=TIMEOUT)
    assert pinned.get_attribute("data-reason") == "USER_PINNED"
    page.reload()
    page.locator(TOOLBAR_ITEMS).first.wait_for(timeout=TIMEOUT)
    assert "export" in visible_order(page)
    assert "undo" not in visible_order(page)


def test_task_panel_appears_completes_and_dissolves(embed_server, page, artifacts_dir):
    open_app(page, embed_server)
    page.locator("[data-adaptive=menu] [data-adaptive-toggle=menu]").click()
    page.locator("[data-region=menu] [data-command=insert_checklist]").click()
    panel = page.locator("[data-task-panel=checklist]")
    panel.wait_for(timeout=TIMEOUT)
    assert panel.get_attribute("data-task-state") == "open"
    assert panel.get_by_role("heading").inner_text() == "Make a checklist"
    page.screenshot(path=str(artifacts_dir / "embed-panel-open.png"))

    panel.locator("button[data-step=add_item]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-task-panel=checklist]')"
        "?.getAttribute('data-task-state') === 'in_progress'",
        timeout=TIMEOUT,
    )
    assert panel.locator("[data-done=true] [data-step=add_item]").count() == 1
    panel.locator("button[data-step=check_item]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-task-panel=checklist]')"
        "?.getAttribute('data-task-state') === 'completed'",
        timeout=TIMEOUT,
    )
    page.screenshot(path=str(artifacts_dir / "embed-panel-completed.png"))
    assert page.get_by_test_id("last-command").inner_text() == "check_item"
    panel.wait_for(state="detached", timeout=15_000)


def test_escape_closes_panel_but_not_a_pinned_one(embed_server, page):
    open_app(page, embed_server)
    run_from_palette(page, "insert check", "insert_checklist")
    panel = page.locator("[data-task-panel=checklist]")
    panel.wait_for(timeout=TIMEOUT)
    page.keyboard.press("Escape")
    panel.wait_for(state="detached", timeout=TIMEOUT)

    run_from_palette(page, "insert check", "insert_checklist")
    panel.wait_for(timeout=TIMEOUT)
    panel.locator("[data-action=pin]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-task-panel=checklist]')"
        "?.getAttribute('data-task-state') === 'pinned'",
        timeout=TIMEOUT,
    )
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)  # give a wrong close the chance to happen
    assert panel.get_attribute("data-task-state") == "pinned"
    panel.locator("[data-action=close]").click()
    panel.wait_for(state="detached", timeout=TIMEOUT)


def test_why_shows_the_reason_on_hover_and_for_screen_readers(embed_server, page, artifacts_dir):
    open_app(page, embed_server)
    save = page.locator("[data-region=toolbar] [data-command=save]")
    # Screen readers get the sentence with the item's name, no hover needed.
    described = (save.get_attribute("aria-describedby") or "").split()
    assert described, "the item has no aria-describedby"
    assert "pinned by the app's designer" in page.locator(f"#{described[0]}").inner_text()

    save.hover()
    tip = page.get_by_role("tooltip")
    tip.wait_for(timeout=TIMEOUT)
    assert "pinned by the app's designer" in tip.inner_text()
    page.screenshot(path=str(artifacts_dir / "embed-why.png"))
