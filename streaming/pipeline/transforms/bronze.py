"""Bronze: landed page files, parsed into the envelope, with corrupt files flagged."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from streaming.pipeline.tables import BRONZE, ENVELOPE

_CORRUPT = "_corrupt_record"
_PARSE_SCHEMA = StructType([*ENVELOPE.fields, StructField(_CORRUPT, StringType(), True)])

EMPTY_FILE = "empty_file"
NOT_UTF8 = "not_utf8"
MALFORMED_JSON = "malformed_json"
NOT_AN_ENVELOPE = "not_an_envelope"
FETCHED_IN_FUTURE = "fetched_at_in_future"

# A page's fetched_at decides which observation of a title is newest: one later than
# its ingestion (beyond this much clock skew between producer and pipeline) would win
# over every real observation for good, so such a page is not trusted.
FETCHED_AT_SKEW = "INTERVAL 5 MINUTES"


def _corrupt_reason(
    parsed: Column, raw: Column, fetched_at: Column, ingested_at: Column, utf8: str
) -> Column:
    return (
        F.when(raw.rlike(r"^\s*$"), F.lit(EMPTY_FILE))
        .when(~F.col(utf8), F.lit(NOT_UTF8))
        .when(parsed.isNull() | parsed[_CORRUPT].isNotNull(), F.lit(MALFORMED_JSON))
        .when(
            parsed["source"].isNull()
            | parsed["endpoint"].isNull()
            | parsed["response"].isNull()
            | fetched_at.isNull(),
            F.lit(NOT_AN_ENVELOPE),
        )
        .when(fetched_at > ingested_at + F.expr(FETCHED_AT_SKEW), F.lit(FETCHED_IN_FUTURE))
    )


def with_parsed_envelope(files_df: DataFrame) -> DataFrame:
    """Parse each file's text (``raw``) into the envelope columns and flag corrupt files.

    Expects ``raw`` (the file's whole text) and ``_source_file``; adds the envelope's
    fields, ``fetched_at`` as a timestamp, ``_corrupt_reason`` (null when the file is
    a well-formed envelope) and ``_ingested_at``. ``raw`` is kept as read, except that
    bytes which are not UTF-8 become U+FFFD (the page is flagged ``not_utf8``; the
    landed file keeps the bytes), so every reader of bronze can decode it.
    """
    parsed = F.from_json(
        "raw", _PARSE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
    )
    fetched_at = F.try_to_timestamp(F.col("_env.fetched_at"))
    ingested_at = F.col("_ingested_at")
    return (
        files_df.withColumn("_utf8", F.is_valid_utf8("raw"))
        .withColumn("raw", F.make_valid_utf8("raw"))
        .withColumn("_env", parsed)
        .withColumn("_ingested_at", F.current_timestamp())
        .select(
            "raw",
            *[
                F.col(f"_env.{f.name}").alias(f.name)
                for f in ENVELOPE.fields
                if f.name != "fetched_at"
            ],
            fetched_at.alias("fetched_at"),
            _corrupt_reason(F.col("_env"), F.col("raw"), fetched_at, ingested_at, "_utf8").alias(
                "_corrupt_reason"
            ),
            "_source_file",
            ingested_at,
        )
        .select(*BRONZE.fieldNames())
    )
