"""The device class recorded with each command: context the model may learn from.

Coarse on purpose: the full User-Agent string would help fingerprint a person, while four
classes are all a layout needs to tell a phone from a desk.
"""

from __future__ import annotations


def device_class(user_agent: str) -> str:
    """desktop / tablet / mobile / other from a User-Agent header."""
    ua = user_agent.lower()
    if not ua:
        return "other"
    if "ipad" in ua or "tablet" in ua or ("android" in ua and "mobile" not in ua):
        return "tablet"
    if "mobi" in ua or "iphone" in ua:
        return "mobile"
    if any(word in ua for word in ("windows", "macintosh", "x11", "linux", "cros")):
        return "desktop"
    return "other"
