"""Silver: search results exploded, cleaned, validated by named rules, one row per title."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

MEDIA_TYPES = ("movie", "series", "episode", "game")
IMDB_ID_PATTERN = r"^tt\d{7,}$"
# A leading four-digit year, then optionally an en dash (U+2013) or hyphen and a second year.
_YEAR_RANGE = r"^\s*(\d{4})(?:\s*[\x{2013}-]\s*(\d{4})?)?"


@dataclass(frozen=True)
class Rule:
    """A data-quality rule: a record passes when ``check`` is true (null counts as false)."""

    name: str
    column: str
    check: Callable[[Column], Column]

    def passes(self) -> Column:
        return F.coalesce(self.check(F.col(self.column)), F.lit(False))


RULES = (
    Rule("movie_title_not_empty", "movie_title", lambda c: c.isNotNull()),
    Rule("imdb_id_format", "imdb_id", lambda c: c.rlike(IMDB_ID_PATTERN)),
    Rule("media_type_allowed", "media_type", lambda c: c.isin(*MEDIA_TYPES)),
    Rule("release_year_present", "release_year", lambda c: c.isNotNull()),
)

PAGE_RULE = "page_well_formed"

SILVER_COLUMNS = (
    "imdb_id",
    "movie_title",
    "release_year",
    "end_year",
    "media_type",
    "poster_url",
    "first_seen_at",
    "last_seen_at",
    "_source_file",
)


def explode_search_results(bronze_df: DataFrame) -> DataFrame:
    """One row per search result of every well-formed page; ``Response: False`` pages give none."""
    return (
        bronze_df.where(F.col("_corrupt_reason").isNull())
        .select(
            "_source_file",
            "fetched_at",
            F.posexplode("response.Search").alias("result_index", "result"),
        )
        .select(
            "_source_file",
            "fetched_at",
            "result_index",
            *[
                F.col(f"result.{name}").alias(name)
                for name in ("Title", "Year", "imdbID", "Type", "Poster")
            ],
        )
    )


def with_movie_title(df: DataFrame) -> DataFrame:
    """``movie_title``: trimmed ``Title``, null when empty."""
    return df.withColumn("movie_title", F.nullif(F.trim("Title"), F.lit("")))


def with_imdb_id(df: DataFrame) -> DataFrame:
    """``imdb_id``: ``imdbID`` as given (the format rule checks it)."""
    return df.withColumn("imdb_id", F.col("imdbID"))


def with_media_type(df: DataFrame) -> DataFrame:
    """``media_type``: lower-cased trimmed ``Type``."""
    return df.withColumn("media_type", F.lower(F.trim("Type")))


def with_release_years(df: DataFrame) -> DataFrame:
    """``release_year`` and ``end_year`` from ``Year`` ("2005", "2005–2010", "1999–")."""

    def year(group: int) -> Column:
        return F.nullif(F.regexp_extract("Year", _YEAR_RANGE, group), F.lit("")).try_cast("int")

    return df.withColumn("release_year", year(1)).withColumn("end_year", year(2))


def with_poster_url(df: DataFrame) -> DataFrame:
    """``poster_url``: ``Poster``, null when ``"N/A"`` or empty."""
    poster = F.trim("Poster")
    return df.withColumn(
        "poster_url", F.when((poster == "") | (F.upper(poster) == "N/A"), None).otherwise(poster)
    )


def with_failed_rules(df: DataFrame) -> DataFrame:
    """``failed_rules``: the names of the rules a record fails (empty when it passes all)."""
    failures = [F.when(~rule.passes(), F.lit(rule.name)) for rule in RULES]
    return df.withColumn("failed_rules", F.filter(F.array(*failures), lambda x: x.isNotNull()))


def clean_search_results(results_df: DataFrame) -> DataFrame:
    """Every cleaning transform and the rule check, in order."""
    return (
        results_df.transform(with_movie_title)
        .transform(with_imdb_id)
        .transform(with_media_type)
        .transform(with_release_years)
        .transform(with_poster_url)
        .transform(with_failed_rules)
    )


def filter_valid_records(df: DataFrame) -> DataFrame:
    """Records that pass every rule."""
    return df.where(F.size("failed_rules") == 0)


def filter_invalid_records(df: DataFrame) -> DataFrame:
    """Records that fail at least one rule."""
    return df.where(F.size("failed_rules") > 0)


def deduplicate_titles(valid_df: DataFrame) -> DataFrame:
    """One row per ``imdb_id``: the newest ``fetched_at`` wins; ``first_seen_at`` is the oldest.

    Ties on ``fetched_at`` go to the later source file, then the earlier position, so the
    choice does not depend on how Spark split the batch.
    """
    newest_first = Window.partitionBy("imdb_id").orderBy(
        F.col("fetched_at").desc(), F.col("_source_file").desc(), F.col("result_index").asc()
    )
    by_title = Window.partitionBy("imdb_id")
    return (
        valid_df.withColumn("_rank", F.row_number().over(newest_first))
        .withColumn("first_seen_at", F.min("fetched_at").over(by_title))
        .where(F.col("_rank") == 1)
        .withColumn("last_seen_at", F.col("fetched_at"))
        .select(*SILVER_COLUMNS)
    )


def filter_changing_titles(titles_df: DataFrame, silver_df: DataFrame) -> DataFrame:
    """Titles that change silver: new ones, newer observations, or an earlier first sighting.

    What is left out (an older or the same observation, as in a replayed batch) would
    change no row: leaving it out of the MERGE keeps a replay from committing anything.
    """
    current_df = silver_df.select(
        "imdb_id",
        F.col("last_seen_at").alias("_current_last_seen_at"),
        F.col("first_seen_at").alias("_current_first_seen_at"),
        F.lit(True).alias("_exists"),
    )
    return (
        titles_df.join(current_df, "imdb_id", "left")
        .where(
            F.col("_exists").isNull()
            | (F.col("last_seen_at") > F.col("_current_last_seen_at"))
            | (F.col("first_seen_at") < F.col("_current_first_seen_at"))
        )
        .select(*titles_df.columns)
    )


def to_quarantine_records(invalid_df: DataFrame) -> DataFrame:
    """Failed search results as quarantine rows: the rule names and the record as JSON."""
    record = F.to_json(F.struct("Title", "Year", "imdbID", "Type", "Poster"))
    return invalid_df.select(
        "failed_rules",
        record.alias("record"),
        "_source_file",
        F.col("result_index").cast("int").alias("result_index"),
        "fetched_at",
    )


def to_quarantined_pages(bronze_df: DataFrame) -> DataFrame:
    """Corrupt bronze pages as quarantine rows, so no bad file goes unnoticed."""
    return bronze_df.where(F.col("_corrupt_reason").isNotNull()).select(
        F.array(F.concat(F.lit(f"{PAGE_RULE}:"), "_corrupt_reason")).alias("failed_rules"),
        F.col("raw").alias("record"),
        "_source_file",
        F.lit(None).cast("int").alias("result_index"),
        "fetched_at",
    )


def rule_counts(checked_df: DataFrame, bronze_df: DataFrame) -> list[tuple[str, int, int]]:
    """(rule, passed, failed) for every rule over one batch, and for well-formed pages.

    One Spark job collects one row: both aggregates are computed in Spark and joined.
    """
    record_aggs = [
        F.sum(F.when(F.array_contains("failed_rules", rule.name), 1).otherwise(0)).alias(rule.name)
        for rule in RULES
    ]
    records_df = checked_df.agg(F.count(F.lit(1)).alias("_records"), *record_aggs)
    pages_df = bronze_df.agg(
        F.count(F.lit(1)).alias("_pages"),
        F.sum(F.when(F.col("_corrupt_reason").isNotNull(), 1).otherwise(0)).alias("_corrupt"),
    )
    row = records_df.crossJoin(pages_df).first()
    total = row["_records"] or 0
    counts = [(rule.name, total - (row[rule.name] or 0), row[rule.name] or 0) for rule in RULES]
    page_failed = row["_corrupt"] or 0
    counts.append((PAGE_RULE, (row["_pages"] or 0) - page_failed, page_failed))
    return counts


def pages_in(counts: list[tuple[str, int, int]]) -> int:
    """How many pages a batch's ``rule_counts`` were taken over."""
    return next(passed + failed for rule, passed, failed in counts if rule == PAGE_RULE)
