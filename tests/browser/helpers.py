"""Small steps the app's browser tests share: sign up, sign in, read the toolbar."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from personalization.engine.personalizer import Personalizer
from personalization.store.event_store import EventStore

TOOLBAR = "[data-region=toolbar] button[data-command]"
_names = itertools.count(1)


def unique_name(prefix: str) -> str:
    return f"{prefix}{os.getpid()}x{next(_names)}"


def sign_up(page: Page, base: str, username: str, password: str = "correct-horse-1") -> None:
    page.goto(base + "/signup")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_test_id("submit").click()
    page.wait_for_url("**/workspace", timeout=30_000)
    page.locator(TOOLBAR).first.wait_for(timeout=30_000)


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_test_id("submit").click()
    page.wait_for_url("**/workspace", timeout=30_000)
    page.locator(TOOLBAR).first.wait_for(timeout=30_000)


def engine_id(page: Page, base: str) -> str:
    page.goto(base + "/privacy")
    ident = page.get_by_test_id("engine-id")
    ident.wait_for(timeout=30_000)
    return ident.inner_text().strip()


def in_control_group(user_id: str, tmp: Path) -> bool:
    """The engine's own stable hash (same default share as the server)."""
    engine = Personalizer(url=f"sqlite:///{tmp / 'hash.db'}")
    try:
        return engine.in_control_group(user_id)
    finally:
        engine.engine.dispose()


def sign_up_adaptive(page: Page, base: str, prefix: str, tmp: Path) -> tuple[str, str]:
    """A new account outside the control group (which never adapts, by design)."""
    for _ in range(5):
        name = unique_name(prefix)
        sign_up(page, base, name)
        uid = engine_id(page, base)
        if not in_control_group(uid, tmp):
            page.goto(base + "/workspace")
            page.locator(TOOLBAR).first.wait_for(timeout=30_000)
            return name, uid
        page.get_by_test_id("sign-out").click()
        page.wait_for_url("**/login")
    raise AssertionError("five sign-ups in a row landed in the control group")


def toolbar(page: Page) -> list[tuple[str, str]]:
    """(command, reason) of every visible toolbar item, in slot order."""
    items = page.locator(TOOLBAR)
    return [
        (
            items.nth(i).get_attribute("data-command") or "",
            items.nth(i).get_attribute("data-reason") or "",
        )
        for i in range(items.count())
    ]


def run_from_more(page: Page, command: str) -> None:
    """Run a toolbar command that lives under "More" and wait for its effect."""
    status = page.get_by_test_id("doc-status")
    before = int(status.get_attribute("data-handled") or 0)
    more = page.locator("[data-overflow=toolbar]")
    more.locator("[data-adaptive-toggle]").click()  # hidden items stay in the DOM, closed
    more.locator(f"button[data-command={command}]").click()
    expect(status).to_have_attribute("data-handled", str(before + 1), timeout=15_000)


def why(page: Page, selector: str) -> str:
    """The "why is this here?" sentence linked to an item (what a screen reader reads)."""
    described = (page.locator(selector).get_attribute("aria-describedby") or "").split()
    assert described, f"{selector} has no aria-describedby"
    return page.locator(f"[id='{described[0]}']").text_content() or ""


def click_command(page: Page, selector: str) -> None:
    status = page.get_by_test_id("doc-status")
    before = int(status.get_attribute("data-handled") or 0)
    page.locator(selector).click()
    expect(status).to_have_attribute("data-handled", str(before + 1), timeout=15_000)


def wait_recorded(
    db_url: str, user_id: str, command: str, count: int, *, timeout: float = 15
) -> None:
    """Wait until the app stored ``count`` uses of ``command`` by ``user_id``. A widget runs
    the host's handler first and records after that update went out (the engine stays off
    the click's path), so "the page showed it" does not yet mean "it was recorded": a test
    that reloads or navigates right away must wait for the store, or lose the last click."""
    store = EventStore(db_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            stored = sum(e.command == command for e in store.history(user_id))
            if stored >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        store.close()
    assert stored >= count, f"{stored} of {count} {command!r} events recorded for {user_id}"
