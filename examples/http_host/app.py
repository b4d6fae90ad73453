"""A host that is not a Reflex app: a plain Starlette page drawing an adaptive toolbar.

It talks to the engine only through the SDK over HTTP, the way a Django, Flask or Node
backend would: each click is recorded (command id and region, nothing else), and the page
draws the toolbar in the order, visibility and wording the engine returns, with every
reason shown as the button's tooltip.

    python -m personalization.keys create --name demo --scope ingest --scope layout
    python -m personalization.api --port 8000
    ADAPTIVE_API_KEY=ark_... uvicorn examples.http_host.app:app --port 8001
    # open http://127.0.0.1:8001/?user=alice
"""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from personalization.client import Client, Layout

REGION = "toolbar"


def render(layout: Layout, user: str) -> str:
    """The page for ``layout``: visible buttons in slot order, the rest under "More"."""
    esc = html.escape
    buttons = "\n".join(
        f'<button name="command" value="{esc(i.command)}" title="{esc(i.sentence)}" '
        f'data-zone="{esc(i.zone)}">{esc(i.label)}</button>'
        for i in layout.visible
    )
    hidden = [i for i in layout.items if not i.visible]
    more = "\n".join(
        f'<li><button name="command" value="{esc(i.command)}" title="{esc(i.sentence)}">'
        f"{esc(i.label)}</button></li>"
        for i in sorted(hidden, key=lambda i: i.position)
    )
    note = "Adapted to you" if layout.adapted else "Standard layout"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Adaptive toolbar</title></head>
<body>
<h1>Adaptive toolbar for {esc(user)}</h1>
<p>{note} (registry v{layout.registry_version}). Hover a button to see why it is there.</p>
<form method="post" action="/run?user={esc(user)}">
<nav aria-label="toolbar">{buttons}</nav>
<details><summary>More</summary><ul>{more}</ul></details>
</form>
</body></html>"""


def create_app(client: Client) -> Starlette:
    """The page over ``client`` (closed, and so flushed, when the app shuts down)."""

    def page(request: Request) -> HTMLResponse:
        user = request.query_params.get("user", "demo")
        return HTMLResponse(render(client.layout(user, REGION), user))

    async def run(request: Request) -> RedirectResponse:
        user = request.query_params.get("user", "demo")
        form = await request.form()
        command = str(form.get("command", ""))
        client.record(user, command, region=REGION)
        client.flush()  # so the next page already learned from this click
        return RedirectResponse(f"/?user={user}", status_code=303)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        client.close()

    return Starlette(
        routes=[Route("/", page), Route("/run", run, methods=["POST"])], lifespan=lifespan
    )


def _from_env() -> Starlette:
    client = Client(
        os.environ.get("ADAPTIVE_API_URL", "http://127.0.0.1:8000"),
        os.environ.get("ADAPTIVE_API_KEY", ""),
        application=os.environ.get("ADAPTIVE_APPLICATION", "default"),
    )
    return create_app(client)


app = _from_env() if os.environ.get("ADAPTIVE_API_KEY") else None
"""The ASGI app for ``uvicorn examples.http_host.app:app`` (needs ``ADAPTIVE_API_KEY``)."""
