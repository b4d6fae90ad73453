"""A bounded, per-process cache of people's ``UserRecord``s (least recently used first out).

Only a cache: the database holds every person's checkpoint and the log holds the truth, so
an evicted or stale entry costs a load, never a wrong answer. Each use checks the entry
against the log (the facade replays the person's events after the entry's ``seq``, and the
event at ``seq`` must still exist) and against the person's learning epoch, so another
worker's writes, an erasure or a reset are seen on the next request. Memory is bounded by
``max_users`` times the largest record, which ``UserState``'s context cap bounds.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from personalization.engine.user_records import UserRecord

DEFAULT_MAX_USERS = 5_000
ENV = "ADAPTIVE_STATE_CACHE_USERS"


class StateCache:
    def __init__(self, max_users: int | None = None) -> None:
        if max_users is None:
            max_users = int(os.environ.get(ENV, str(DEFAULT_MAX_USERS)))
        if max_users < 1:
            raise ValueError(f"{ENV} must be at least 1, got {max_users}")
        self.max_users = max_users
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
        with self._lock:
            self._items[record.user_id] = record
            self._items.move_to_end(record.user_id)
            while len(self._items) > self.max_users:
                self._items.popitem(last=False)

    def pop(self, user_id: str) -> None:
        with self._lock:
            self._items.pop(user_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
