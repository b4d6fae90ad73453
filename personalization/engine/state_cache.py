"""A bounded, per-process cache of people's ``UserRecord``s (least recently used first out).

Only a cache: the database holds every person's checkpoint and the log holds the truth, so
an evicted or stale entry costs a load, never a wrong answer. Each use checks the entry
against the log (the facade replays the person's events after the entry's ``seq``, and the
event at ``seq`` must still exist) and against the person's learning epoch, so another
worker's writes, an erasure or a reset are seen on the next request.

Bounded twice: by people (``ADAPTIVE_STATE_CACHE_USERS``) and by an estimate of their
memory (``ADAPTIVE_STATE_CACHE_MB``), because one person's model ranges from a few
kilobytes (a visitor with five page views) to about 2 MB (5,000 shell commands, near the
context cap): a count alone would let a cache of heavy users take gigabytes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from personalization.store.user_records import UserRecord

DEFAULT_MAX_USERS = 5_000
DEFAULT_MAX_MB = 512
ENV = "ADAPTIVE_STATE_CACHE_USERS"
ENV_MB = "ADAPTIVE_STATE_CACHE_MB"
# measured with tracemalloc on real Schonlau users: ~370 bytes per sequence context (its
# tuple key, its row dict and the counts in it); the rest of a model is small beside it
BYTES_PER_CONTEXT = 400
BYTES_PER_COMMAND = 300
BASE_BYTES = 4_000


def estimated_bytes(record: UserRecord) -> int:
    state = record.state
    return (
        BASE_BYTES
        + BYTES_PER_CONTEXT * len(state.contexts)
        + BYTES_PER_COMMAND * (len(state.last_seen) + len(record.usage.counts))
    )


class StateCache:
    def __init__(self, max_users: int | None = None, max_mb: float | None = None) -> None:
        if max_users is None:
            max_users = int(os.environ.get(ENV, str(DEFAULT_MAX_USERS)))
        if max_mb is None:
            max_mb = float(os.environ.get(ENV_MB, str(DEFAULT_MAX_MB)))
        if max_users < 1:
            raise ValueError(f"{ENV} must be at least 1, got {max_users}")
        if max_mb <= 0:
            raise ValueError(f"{ENV_MB} must be positive, got {max_mb}")
        self.max_users = max_users
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.bytes = 0
        self._sizes: dict[str, int] = {}
        self._items: OrderedDict[str, UserRecord] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, user_id: str) -> UserRecord | None:
        with self._lock:
            record = self._items.get(user_id)
            if record is None:
                self.misses += 1
                return None
            self._items.move_to_end(user_id)
            self.hits += 1
            return record

    def put(self, record: UserRecord) -> None:
        """Insert or refresh (a record grows as it learns, so its size is re-estimated)."""
        user = record.user_id
        size = estimated_bytes(record)
        with self._lock:
            self.bytes += size - self._sizes.get(user, 0)
            self._sizes[user] = size
            self._items[user] = record
            self._items.move_to_end(user)
            # the newest entry always stays, even if it alone is over the byte budget
            while len(self._items) > 1 and (
                len(self._items) > self.max_users or self.bytes > self.max_bytes
            ):
                old, _ = self._items.popitem(last=False)
                self.bytes -= self._sizes.pop(old)

    def pop(self, user_id: str) -> None:
        with self._lock:
            if self._items.pop(user_id, None) is not None:
                self.bytes -= self._sizes.pop(user_id)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self.bytes = 0
