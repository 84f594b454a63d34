"""The runtime: where Spark comes from and the processes that keep it.

``session`` builds the SparkSession (local Spark with Delta, a Spark Connect server's
session, or Databricks'); ``connect_server`` starts a local Spark Connect server with
Delta; ``serve`` is the always-on local lakehouse (the four streams, an SQL endpoint and
Spark Connect in one process). It may import the read and write paths; only
``streaming.cli`` imports it.
"""
