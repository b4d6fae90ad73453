"""The engine's runtime: what several backend processes share and how each one caches it.

Modules here wire the facade (``personalization.service``) to shared, durable state: the
per-user model records and their bounded in-process cache, versioned population artifacts,
live-metric increments, cluster-wide leases and the optional Redis connection. They may
import the engine's plain modules (``predict``, ``store``, ``profile`` ...) but never Reflex.
"""
