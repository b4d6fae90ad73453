"""Ephemeral task panels: appear when a task starts, dissolve once it is complete.

``machine`` is the per-session state machine (suggest, open, progress, complete, dismiss,
expire); ``sessions`` loads, advances and saves one browser tab's panels; ``store`` keeps
those sessions in memory or in Redis (with a TTL) so that every worker sees the same ones.
May import ``types``, ``profile``, ``registry`` and ``engine.views``; never a database table.
"""
