"""The host app end to end in headless Chromium, against the production build.

Each test uses its own fresh account (or a seeded demo account it does not change), so the
tests do not depend on one another's order; the designer test restores what it changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    TOOLBAR,
    click_command,
    engine_id,
    run_from_more,
    sign_in,
    sign_up,
    sign_up_adaptive,
    toolbar,
    unique_name,
    wait_recorded,
    why,
)

pytestmark = pytest.mark.browser
PERSONAL = {"FREQUENT", "RECENT", "USER_PINNED"}  # reasons only a person's own use gives
ADAPTED = PERSONAL | {"PREDICTED"}


def test_new_user_signs_up_and_commands_change_the_document(app_server, page, artifacts_dir):
    base = app_server.url
    sign_up(page, base, unique_name("newbie"))
    first = toolbar(page)  # first paint: nothing personal yet, designer pins in place
    assert first[:2] == [("save", "PINNED"), ("undo", "PINNED")]
    assert not {r for _, r in first} & PERSONAL
    blocks = page.get_by_test_id("doc-block")
    first_text = blocks.nth(1)
    first_text.click()  # select the paragraph
    click_command(page, f"{TOOLBAR}[data-command=bold]")
    expect(page.get_by_test_id("doc-status")).to_have_text("Bold on.")
    expect(first_text.locator("p")).to_have_css("font-weight", "700")
    tables_before = page.get_by_test_id("doc-table").count()
    click_command(page, f"{TOOLBAR}[data-command=insert_table]")
    expect(page.get_by_test_id("doc-table")).to_have_count(tables_before + 1)
    run_from_more(page, "rotate")
    expect(page.get_by_test_id("picture").first).to_have_attribute("data-rotation", "90")
    page.screenshot(path=str(artifacts_dir / "workspace.png"), full_page=True)


def test_toolbar_adapts_to_what_the_person_uses(app_server, page, tmp_path, artifacts_dir):
    base = app_server.url
    sign_up_adaptive(page, base, "adapt", tmp_path)
    assert dict(toolbar(page)).get("rotate") not in PERSONAL
    for _ in range(6):
        run_from_more(page, "rotate")
    page.reload()  # the toolbar may change on page load, never under the hand
    page.locator(TOOLBAR).first.wait_for()
    shown = dict(toolbar(page))
    assert "rotate" in shown, f"rotate not promoted: {shown}"
    assert shown["rotate"] in ADAPTED
    assert shown["save"] == "PINNED" and shown["undo"] == "PINNED"  # designer pins hold
    assert why(page, f"{TOOLBAR}[data-command=rotate]"), "an adapted item must say why"
    page.screenshot(path=str(artifacts_dir / "workspace-adapted.png"), full_page=True)


def test_task_panel_runs_to_completion_and_dissolves(app_server, page, artifacts_dir):
    base = app_server.url
    sign_up(page, base, unique_name("panel"))
    click_command(page, f"{TOOLBAR}[data-command=insert_table]")
    panel = page.locator("[data-task-panel=insert_table]")
    expect(panel).to_have_attribute("data-task-state", "open")
    page.screenshot(path=str(artifacts_dir / "task-panel.png"), full_page=True)
    rows_before = page.get_by_test_id("doc-table").last.get_attribute("data-rows")
    click_command(page, "[data-task-panel=insert_table] [data-step=table_rows]")
    expect(panel).to_have_attribute("data-task-state", "in_progress")
    expect(page.get_by_test_id("doc-table").last).not_to_have_attribute(
        "data-rows", rows_before or ""
    )
    click_command(page, "[data-task-panel=insert_table] [data-step=table_style]")
    expect(panel).to_have_attribute("data-task-state", "completed")
    expect(panel).to_have_count(0, timeout=15_000)  # dissolves by itself once done


def test_palette_menu_and_personal_controls_act_on_the_workspace(app_server, page, artifacts_dir):
    base = app_server.url
    sign_up(page, base, unique_name("keys"))
    status = page.get_by_test_id("doc-status")
    # Keyboard only: Ctrl+K, type, Enter runs the command on the document.
    page.keyboard.press("Control+k")
    page.get_by_role("combobox", name="Search commands").fill("rotate")
    chosen = page.locator("[data-palette] [role=option][aria-selected=true]")
    expect(chosen).to_have_attribute("data-command", "rotate")
    page.screenshot(path=str(artifacts_dir / "workspace-palette.png"))
    page.keyboard.press("Enter")
    expect(status).to_have_attribute("data-handled", "1")
    expect(page.get_by_test_id("picture").first).to_have_attribute("data-rotation", "90")

    # The Edit menu lists its items while closed; opened, a click prints the document.
    menu = page.locator("[data-adaptive=menu]")
    expect(menu.locator("[data-region=menu] [data-command=print]")).to_have_count(1)
    toggle = menu.locator("[data-adaptive-toggle=menu]")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=str(artifacts_dir / "workspace-menu.png"))
    click_command(page, "[data-region=menu] button[data-command=print]")
    expect(page.get_by_test_id("printed")).to_have_text("printed ×1")

    # Hiding an item from the personal controls moves it out of the toolbar at once.
    assert "bold" in dict(toolbar(page))
    page.get_by_test_id("personalize").click()
    page.locator("[data-control=hide][data-control-command=bold]").click()
    expect(page.locator(f"{TOOLBAR}[data-command=bold]")).to_have_count(0)
    expect(page.locator("[data-overflow=toolbar] [data-command=bold]")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "workspace-personalize.png"))


def test_escape_closes_an_open_task_panel_but_not_a_pinned_one(app_server, page):
    base = app_server.url
    sign_up(page, base, unique_name("esc"))
    panel = page.locator("[data-task-panel=insert_table]")
    click_command(page, f"{TOOLBAR}[data-command=insert_table]")
    expect(panel).to_have_attribute("data-task-state", "open")
    page.mouse.move(5, 5)  # no tooltip open: Esc then belongs to the panel
    expect(page.get_by_role("tooltip")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)

    click_command(page, f"{TOOLBAR}[data-command=crop]")
    pinned = page.locator("[data-task-panel=crop_resize]")
    expect(pinned).to_have_attribute("data-task-state", "open")
    pinned.locator("[data-action=pin]").click()
    expect(pinned).to_have_attribute("data-task-state", "pinned")
    page.mouse.move(5, 5)
    expect(page.get_by_role("tooltip")).to_have_count(0)
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)  # give a wrong close the chance to happen
    expect(pinned).to_have_attribute("data-task-state", "pinned")


def test_privacy_export_then_delete_restores_the_default(app_server, page, tmp_path, artifacts_dir):
    base = app_server.url
    _, uid = sign_up_adaptive(page, base, "private", tmp_path)
    fresh = toolbar(page)  # what a person the model knows nothing about sees
    for _ in range(6):
        run_from_more(page, "rotate")
    wait_recorded(app_server.extra_env["ADAPTIVE_DB_URL"], uid, "rotate", 6)
    page.reload()
    page.locator(TOOLBAR).first.wait_for()
    assert toolbar(page) != fresh
    page.goto(base + "/privacy")
    expect(page.get_by_test_id("event-row").first).to_be_visible(timeout=30_000)
    assert int(page.get_by_test_id("event-total").inner_text()) >= 6
    page.screenshot(path=str(artifacts_dir / "privacy.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("download-data").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["user_id"] == uid
    events = data["tables"]["usage_event"]
    assert sum(e["command"] == "rotate" for e in events) == 6
    assert {e["user_id"] for e in events} == {uid}
    # Context is recorded coarsely: headless Chromium on Linux is a desktop; no free text.
    assert {e["device"] for e in events if e["command"] == "rotate"} == {"desktop"}
    page.get_by_test_id("delete-data").click()
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_test_id("privacy-notice")).to_contain_text("designer's default")
    expect(page.get_by_test_id("event-total")).to_have_text("0")
    expect(page.get_by_test_id("learned")).to_have_text("The model has learned nothing about you.")
    page.goto(base + "/workspace")
    page.locator(TOOLBAR).first.wait_for()
    assert toolbar(page) == fresh
    assert not {r for _, r in toolbar(page)} & PERSONAL


def test_end_user_cannot_open_designer_or_insights(app_server, page, artifacts_dir):
    base = app_server.url
    sign_in(page, base, "alice", "alice-demo")
    expect(page.get_by_test_id("nav-designer")).to_have_count(0)
    for path in ("/designer", "/insights"):
        page.goto(base + path)
        expect(page.get_by_test_id("denied")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("designer-console")).to_have_count(0)
        expect(page.locator(".js-plotly-plot")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "designer-denied.png"), full_page=True)


def test_one_user_never_sees_another_users_data(app_server, browser, page, tmp_path):
    base = app_server.url
    # B works in their own browser context first.
    other = browser.new_context()
    b_page = other.new_page()
    b_name = unique_name("userb")
    sign_up(b_page, base, b_name)
    click_command(b_page, f"{TOOLBAR}[data-command=crop]")
    b_id = engine_id(b_page, base)
    other.close()

    sign_up(page, base, unique_name("usera"))
    a_id = engine_id(page, base)
    assert a_id != b_id
    # A user id in the address is ignored: identity comes from the sign-in session only.
    page.goto(f"{base}/privacy?user={b_id}&user_id={b_id}")
    expect(page.get_by_test_id("engine-id")).to_have_text(a_id, timeout=30_000)
    expect(page.get_by_test_id("event-total")).to_have_text("0")
    with page.expect_download() as download:
        page.get_by_test_id("download-data").click()
    exported = Path(download.value.path()).read_text()
    assert b_id not in exported and b_name not in exported
    # Signed out, the private pages give nothing and send the browser to sign in.
    page.get_by_test_id("sign-out").click()
    page.wait_for_url("**/login")
    page.goto(base + "/privacy")
    page.wait_for_url("**/login", timeout=30_000)
    expect(page.get_by_test_id("engine-id")).to_have_count(0)


def test_next_person_in_the_same_tab_sees_nothing_of_the_previous_one(app_server, page, tmp_path):
    base = app_server.url
    sign_up_adaptive(page, base, "first", tmp_path)
    click_command(page, f"{TOOLBAR}[data-command=bold]")  # a document change of their own
    page.get_by_test_id("personalize").click()
    page.locator("[data-control=pin][data-control-command=rotate]").click()
    expect(page.locator(f"{TOOLBAR}[data-command=rotate]")).to_have_attribute(
        "data-reason", "USER_PINNED"
    )
    page.keyboard.press("Escape")  # closes the popover
    # Sign out and a new person signs up in the same tab: the app navigates without a
    # page load, so nothing drawn for the first person may survive in the tab's state.
    page.get_by_test_id("sign-out").click()
    page.wait_for_url("**/login")
    page.get_by_test_id("nav-signup").click()  # in-app navigation, no page load
    page.wait_for_url("**/signup")
    page.locator("input[name=username]").fill(unique_name("second"))
    page.locator("input[name=password]").fill("correct-horse-1")
    page.get_by_test_id("submit").click()
    page.wait_for_url("**/workspace")
    page.locator(TOOLBAR).first.wait_for()
    expect(page.get_by_test_id("doc-status")).to_have_text("Opened Quarterly report.")
    shown = dict(toolbar(page))
    assert "rotate" not in shown and not set(shown.values()) & PERSONAL, shown


def test_designer_edits_policy_and_users_get_it(app_server, page, browser, artifacts_dir):
    base = app_server.url
    sign_in(page, base, "designer", "designer-demo")
    page.goto(base + "/designer")
    editor = page.get_by_test_id("registry-json")
    expect(editor).to_be_visible(timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "designer.png"), full_page=True)
    original = editor.input_value()

    # Invalid JSON is refused with the bad field named; nothing is saved.
    broken = json.loads(original)
    broken["regions"][0]["policy"]["max_moves"] = -1
    editor.fill(json.dumps(broken))
    page.wait_for_timeout(600)  # the editor sends its text after a short debounce
    page.get_by_test_id("save-registry").click()
    expect(page.get_by_test_id("registry-error").first).to_contain_text(
        "regions[0].policy.max_moves: must be >= 0"
    )
    versions = page.get_by_test_id("registry-version").count()

    # Structured policy edit: the toolbar shows 6 items from now on.
    page.get_by_test_id("policy-visible").fill("6")
    page.get_by_test_id("save-policy").click()
    expect(page.get_by_test_id("designer-notice")).to_contain_text("Saved as version")
    expect(page.get_by_test_id("registry-version")).to_have_count(versions + 1)
    expect(page.get_by_test_id("preview").locator("[data-command]")).to_have_count(6)

    user = browser.new_context().new_page()
    sign_in(user, base, "bob", "bob-demo")
    expect(user.locator(TOOLBAR)).to_have_count(6)
    user.context.close()

    page.get_by_test_id("policy-visible").fill("8")  # restore for anyone after us
    page.get_by_test_id("save-policy").click()
    expect(page.get_by_test_id("registry-version")).to_have_count(versions + 2)

    page.goto(base + "/insights")
    expect(page.locator(".js-plotly-plot")).to_have_count(6, timeout=30_000)
    page.get_by_test_id("retrain").click()  # background retraining, progress on the page
    expect(page.get_by_test_id("training-message")).to_contain_text(
        "Population model retrained", timeout=120_000
    )
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts_dir / "insights.png"), full_page=True)
