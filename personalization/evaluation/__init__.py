"""Measuring predictors and policies honestly on real logs, and importing those logs.

``datasets`` reads the public usage logs; ``metrics`` defines hit@k, MRR, Brier and ECE;
``evaluate`` and ``simulate`` replay logs progressively (score, then learn); ``importers``
loads CSV, JSONL and MSNBC logs into an event store. Offline tools: may import the engine's
packages, and nothing imports them back except the entry modules, with one exception:
the engine's live metrics score with ``metrics`` (which imports only ``types``), so the
insights page and the benchmark tables measure the same thing.
"""
