"""The read path: every way a table is answered, and how the answer is shown.

Spark SQL (``spark_sql``), delta-rs (``delta_rs_tables``), DataFusion
(``datafusion_sql``), a Databricks SQL Warehouse (``warehouse``) and a running ``serve``
(``serve_client``) each answer columns and rows; ``read_only`` decides which statements
any of them may run; ``output`` formats rows for every engine; ``status``, ``progress``
and ``report`` read the tables and checkpoints to tell how the pipeline is doing. It may
import ``streaming.pipeline`` (table names, checkpoints) but never starts a stream.
"""
