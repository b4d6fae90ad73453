"""The facade (``personalizer.Personalizer``) and what serves it inside one process.

``personalizer`` is the one object hosts talk to. Its helpers: ``recording`` (what may be
stored and how a batch is answered), ``palette`` (the command palette's ranking),
``shown_layouts`` (the layout a person last saw, for churn and found-in-slots),
``live_metrics`` and ``insights`` (what the designer console reads), ``state_cache`` (the
bounded LRU of people's models), ``retention`` (scheduled expiry), ``connections`` (the
optional Redis client), ``views`` (the plain shapes the facade returns) and ``heap``
(start-up GC tuning for servers).

May import every other engine package (``store``, ``predict``, ``layout``, ``panels``,
``registry``); never Reflex, FastAPI or the SDK.
"""
