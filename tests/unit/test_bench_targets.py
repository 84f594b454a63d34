"""The benchmark's target verdicts: each figure judged against its target, from saved results."""

from tests.bench.targets import by_size, judge


def _report(size: str, medians: dict, **trickles: dict) -> dict:
    return {"sizes": [{"size": size, "medians": medians, "runs": [dict(trickles)]}]}


def _verdicts(*reports: dict) -> dict[str, bool | None]:
    return {v.key: v.met for v in judge(by_size(list(reports)))}


def test_each_target_is_met_or_missed_by_its_own_figure():
    ten_k = _report(
        "10k",
        {
            "naive_spark_s": 8.0,
            "plus_1pct_same_s": 2.0,  # 25 %: met, at the edge
            "backfill_s": 16.5,  # 2.06 x: missed
            "rerun_s": 1.2,
            "plus_1pct_fresh_s": 14.0,
            "fresh_session_start_s": 9.5,  # 14 ≤ 14.5: met
            "jvm_peak_rss_mb": 2000.0,
        },
        trickle_alone={"freshness_p50_s": 2.0, "freshness_p95_s": 4.9, "files": 300},
        trickle_with_queries={"freshness_p50_s": 3.0, "freshness_p95_s": 6.0, "files": 300},
        serving={"query_p50_s": 0.8, "query_p95_s": 2.1, "status_p95_s": 0.7},
    )
    verdicts = _verdicts(ten_k)
    assert verdicts["10k/plus_1pct"] is True
    assert verdicts["10k/backfill"] is False
    assert verdicts["10k/rerun"] is False
    assert verdicts["10k/fresh_process"] is True
    assert verdicts["10k/trickle_alone"] is True
    assert verdicts["10k/trickle_with_queries"] is False
    assert verdicts["10k/served_query"] is False  # p50 met, p95 not: both are asked
    assert verdicts["10k/served_status"] is True


def test_figures_absent_from_the_results_are_not_measured_rather_than_met():
    verdicts = _verdicts(_report("10k", {"naive_spark_s": 8.0, "jvm_peak_rss_mb": 2000.0}))
    assert verdicts["100k/backfill"] is None
    assert verdicts["memory"] is None
    assert verdicts["10k/plus_1pct"] is None


def test_separate_runs_are_judged_together_and_keep_an_earlier_trickle():
    trickle = {"freshness_p50_s": 9.0, "freshness_p95_s": 12.0, "files": 10}
    first = _report("10k", {"jvm_peak_rss_mb": 2000.0}, trickle_alone=trickle)
    again = _report("10k", {"jvm_peak_rss_mb": 2100.0})
    large = _report("100k", {"jvm_peak_rss_mb": 2600.0})
    verdicts = _verdicts(first, again, large)
    assert verdicts["memory"] is False  # 2600 / 2100 = 1.24
    assert verdicts["10k/trickle_alone"] is False


def test_whole_process_table_gives_medians_and_pairwise_ratios():
    from tests.bench.whole import table

    results = {
        "now": [{"query": 1.0}, {"query": 2.0}, {"query": 9.0}],
        "/tmp/before": [{"query": 2.0}, {"query": 8.0}, {"query": 3.0}],
    }
    lines = table(results).splitlines()
    assert lines[0] == "| scenario | now | /tmp/before | now / /tmp/before |"
    # Medians 2.0 and 3.0; ratios pair by pair 0.5, 0.25, 3.0, whose median is 0.5.
    assert lines[2] == "| query | 2.00 s | 3.00 s | 0.50 |"
