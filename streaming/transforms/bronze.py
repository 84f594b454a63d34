"""Bronze: landed page files, parsed into the envelope, with corrupt files flagged."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from streaming.tables import BRONZE, ENVELOPE

_CORRUPT = "_corrupt_record"
_PARSE_SCHEMA = StructType([*ENVELOPE.fields, StructField(_CORRUPT, StringType(), True)])

EMPTY_FILE = "empty_file"
MALFORMED_JSON = "malformed_json"
NOT_AN_ENVELOPE = "not_an_envelope"


def _corrupt_reason(parsed: Column, raw: Column, fetched_at: Column) -> Column:
    return (
        F.when(raw.rlike(r"^\s*$"), F.lit(EMPTY_FILE))
        .when(parsed.isNull() | parsed[_CORRUPT].isNotNull(), F.lit(MALFORMED_JSON))
        .when(
            parsed["source"].isNull()
            | parsed["endpoint"].isNull()
            | parsed["response"].isNull()
            | fetched_at.isNull(),
            F.lit(NOT_AN_ENVELOPE),
        )
    )


def with_parsed_envelope(files_df: DataFrame) -> DataFrame:
    """Parse each file's text (``raw``) into the envelope columns and flag corrupt files.

    Expects ``raw`` (the file's whole text) and ``_source_file``; adds the envelope's
    fields, ``fetched_at`` as a timestamp, ``_corrupt_reason`` (null when the file is
    a well-formed envelope) and ``_ingested_at``.
    """
    parsed = F.from_json(
        "raw", _PARSE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
    )
    fetched_at = F.try_to_timestamp(F.col("_env.fetched_at"))
    return (
        files_df.withColumn("_env", parsed)
        .select(
            "raw",
            *[
                F.col(f"_env.{f.name}").alias(f.name)
                for f in ENVELOPE.fields
                if f.name != "fetched_at"
            ],
            fetched_at.alias("fetched_at"),
            _corrupt_reason(F.col("_env"), F.col("raw"), fetched_at).alias("_corrupt_reason"),
            "_source_file",
            F.current_timestamp().alias("_ingested_at"),
        )
        .select(*BRONZE.fieldNames())
    )
