"""Layout decisions: which commands a region shows, in which order, and why.

``decide`` turns a person's usage, choices (pins, hides) and predictions into a ``Layout``
under the region's policy; ``reasons`` words each placement ("why is this here?"). Pure
functions over plain data: may import ``types``, ``profile`` and ``registry``, nothing that
touches a database.
"""
