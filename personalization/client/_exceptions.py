"""What the SDK raises. Its own tree, not the engine's ``PersonalizationError``: a service
using the SDK handles HTTP outcomes and never loads the engine to name them.

::

    ClientError
    ├── ApiError            the server refused (status, code, message, field, retry_after)
    ├── DeliveryError       no answer after every retry (the cause is chained)
    └── BufferFullError     the event buffer is full
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error this SDK raises."""


class ApiError(ClientError):
    """The server answered with an error body; ``code`` is stable (see docs/api.md)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.field, self.retry_after = field, retry_after


class DeliveryError(ClientError):
    """No answer after every retry. Buffered events were kept for the next flush."""


class BufferFullError(ClientError):
    """``max_buffer`` events are waiting; flush (or check the network) before recording."""
