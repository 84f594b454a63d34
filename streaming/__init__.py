"""The streams and everything around them, in three wings and a command line on top.

``cli`` (the commands) → ``runtime`` (sessions, the Connect server, ``serve``) → ``read``
(every way a table is answered) → ``pipeline`` (the chain and what each batch writes) →
``producers`` and ``checkpoints_config``. Imports point that way only; ``errors`` is
shared by all.
"""
