"""The non-Reflex example host: clicks recorded through the SDK, toolbar drawn from the
layout the engine returns, against the real API server over HTTP."""

from __future__ import annotations

import asyncio
import re

import httpx

from examples.http_host.app import create_app
from personalization.client import Client
from tests.api.conftest import LiveApi


def test_page_draws_the_engines_layout_and_records_clicks(live_api: LiveApi) -> None:
    client = Client(live_api.url, live_api.key, application="shop", timeout=60)
    app = create_app(client)

    async def visit() -> tuple[str, str, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://host") as browser:
            before = (await browser.get("/?user=zoe")).text
            for _ in range(4):
                clicked = await browser.post("/run?user=zoe", data={"command": "export_pdf"})
            after = (await browser.get("/?user=zoe")).text
            return before, after, clicked.status_code

    before, after, status = asyncio.run(visit())
    client.close()
    assert status == 303
    with Client(live_api.url, live_api.key, application="shop") as reader:
        layout = reader.layout("zoe", "toolbar", commit=False)
        exported = reader.export_user("zoe")
    drawn = re.findall(r'<button name="command" value="([^"]+)" title="[^"]+" data-zone', after)
    assert drawn == [i.command for i in layout.visible]
    assert 'title="' in before and "Adaptive toolbar for zoe" in before
    clicks = [r for r in exported["tables"]["usage_event"] if r["kind"] == "invoke"]
    assert [(r["command"], r["region"]) for r in clicks] == [("export_pdf", "toolbar")] * 4
