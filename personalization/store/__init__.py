"""Everything the engine keeps in its database, and nothing else.

The SQLAlchemy engine and schema (``db``, ``migrate`` with its Alembic ``migrations``), the
usage log (``events`` validates input, ``event_store`` appends and reads it), people's
profiles and shown layouts (``profiles``), registry versions (``registries``), population
artifacts and model tables (``models``), per-person model checkpoints (``user_records``),
shared counters and cluster leases (``tables``, ``counters``, ``leases``) and the
export/erase rules across every table holding personal data (``privacy``).

May import ``personalization.types``, ``profile``, ``registry``, ``layout`` (shapes it
stores) and ``predict`` (what a checkpoint holds); never the facade, the API or Reflex.
"""
