"""The write path: the bronze → silver → gold chain and everything one micro-batch does.

``layers`` declares the chain once (each layer's source, tables and start); ``streams``
reads landing and tables as streams; ``transforms/`` holds the pure DataFrame → DataFrame
steps; ``writers`` the foreachBatch writers and their MERGEs; ``exactly_once`` the
idempotent appends; ``tables`` every table's spec and operation, in SQL; ``runner``
the triggers and the catch-up; ``checkpoints`` what a checkpoint has committed;
``reset`` and ``lock`` the recovery and the one-writer rule. It imports only
``producers``, ``checkpoints_config`` and ``streaming.errors``: nothing here reads for a
user or starts a runtime.
"""
