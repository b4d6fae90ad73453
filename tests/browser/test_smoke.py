"""The shipped app starts in production mode and renders real content in Chromium."""

import pytest

pytestmark = pytest.mark.browser


def test_home_page_renders(app_server, page, artifacts_dir):
    response = page.goto(app_server.url + "/")
    assert response is not None and response.status == 200
    title = page.get_by_test_id("app-title")
    title.wait_for(state="visible", timeout=30_000)
    assert title.inner_text() == "Adaptive workspace"
    assert page.title() == "Adaptive workspace"
    page.screenshot(path=str(artifacts_dir / "smoke-home.png"), full_page=True)
