"""Python SDK for the engine's HTTP API, on httpx: ``Client`` (sync) and ``AsyncClient``.

    with Client("https://app.example", api_key, application="shop") as client:
        client.record("u42", "save", region="toolbar")      # buffered
        layout = client.layout("u42", "toolbar")            # flushes nothing, reads now
    # leaving the block flushes what is still buffered

Delivery: ``record`` buffers events, each with a client event id minted once, and sends them
in batches (``batch_size``) when the buffer fills, on ``flush()`` and on ``close()``. A batch
leaves the buffer only when the server acknowledged it. Network errors, 429 and 502/503/504
are retried with exponential backoff and jitter (honouring ``Retry-After``); a retry resends
the same ids, so the server reports already-stored events as duplicates and nothing is ever
stored twice. If retries run out, ``DeliveryError`` is raised and the events stay buffered
for the next flush. The buffer is bounded (``max_buffer``): when full, ``record`` raises
``BufferFullError``, or hands the event to ``on_overflow`` and drops it if you gave one.

It speaks HTTP only: importing it loads neither the engine, scikit-learn nor SQLModel (only
the plain ``personalization.types``), so a service that only sends events carries none of
them. Tests swap the network for ``httpx.MockTransport`` (or ``httpx.ASGITransport`` for the
async client) through ``transport=``.

``_exceptions`` holds the errors, ``_models`` the typed answers, ``_transport`` sending with
retries, ``_client`` the two clients.
"""

from personalization.client._client import AsyncClient, Client
from personalization.client._exceptions import (
    ApiError,
    BufferFullError,
    ClientError,
    DeliveryError,
)
from personalization.client._models import (
    EventResult,
    IngestResult,
    Layout,
    LayoutItem,
    Panel,
    PanelStep,
    Prediction,
    Profile,
    UserToken,
)
from personalization.client._transport import RetryPolicy

__all__ = [
    "ApiError",
    "AsyncClient",
    "BufferFullError",
    "Client",
    "ClientError",
    "DeliveryError",
    "EventResult",
    "IngestResult",
    "Layout",
    "LayoutItem",
    "Panel",
    "PanelStep",
    "Prediction",
    "Profile",
    "RetryPolicy",
    "UserToken",
]
