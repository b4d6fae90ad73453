"""The Python SDK for the engine's HTTP API: ``Client`` and ``AsyncClient``.

It speaks HTTP only (httpx): importing it loads neither the engine, scikit-learn nor
SQLModel, so a service that only sends events carries none of them.
"""

from personalization.client._client import (
    ApiError,
    AsyncClient,
    BufferFullError,
    Client,
    ClientError,
    DeliveryError,
    EventResult,
    IngestResult,
    Layout,
    LayoutItem,
    Panel,
    PanelStep,
    Prediction,
    Profile,
    RetryPolicy,
    UserToken,
)

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
