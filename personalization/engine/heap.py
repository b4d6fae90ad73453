"""Keep the garbage collector off what a server builds once at start-up.

A backend imports FastAPI, pydantic, SQLAlchemy and the engine before serving anything:
hundreds of thousands of objects that live as long as the process. CPython's full
collections walk every tracked object, so each one triggered while serving (bulk ingest
allocates many small dicts per event) rescanned all of them: measured on the ingest route,
about a quarter of the engine's time per batch. ``gc.freeze()`` moves what exists now into
a permanent generation that collections skip; what is allocated later is collected as usual.
Done before worker processes fork, it also keeps those pages shared between them.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then exempt everything alive from later collections."""
    gc.collect()
    gc.freeze()
