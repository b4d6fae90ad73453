"""Headless Chromium through Playwright, using the system's Chromium.

`playwright install` cannot download browsers on a closed network, so we point Playwright at
Debian's `chromium` (or `CHROMIUM_PATH`). The flags stop Chromium from calling Google's
services, which a closed network refuses, many at a time.
"""

from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError(
            "No Chromium found: install Debian's 'chromium' package or set CHROMIUM_PATH "
            "(`make test` installs it when run as root)."
        )
    return path
