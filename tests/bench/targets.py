"""The benchmark's targets, judged against measured figures: met, missed, or not measured.

Pure over the medians and trickle results of `tests/bench/run.py`, so that runs made
separately (10k with the trickle, 100k alone) can be judged together.
"""

from __future__ import annotations

from dataclasses import dataclass

PLUS_ONE_PCT_SHARE = 0.25  # +1 % warm ≤ this share of the naive recompute
RERUN_MAX_S = 1.0
BACKFILL_MAX_RATIO = {"10k": 2.0, "100k": 1.5}
FRESHNESS_P95_MAX_S = 5.0
FRESH_PROCESS_MARGIN_S = 5.0
PEAK_MEMORY_MAX_RATIO = 1.2
SERVED_QUERY_P50_MAX_S = 1.0
SERVED_QUERY_P95_MAX_S = 2.0
SERVED_STATUS_MAX_S = 1.0


@dataclass(frozen=True)
class Verdict:
    """One target: what it asks, what was measured, and whether the figure meets it."""

    key: str
    target: str
    measured: str
    met: bool | None  # None: not measured in the given results

    def line(self) -> str:
        if self.met is None:
            return f"{'not measured':>12}  {self.target}"
        return f"{'met' if self.met else 'MISSED':>12}  {self.target}: {self.measured}"


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def judge(sizes: dict[str, dict]) -> list[Verdict]:
    """Every target of the benchmark, for the sizes present.

    Args:
        sizes: per size label ("10k", "100k"), its ``medians`` and, when the trickle ran,
            ``trickle_alone`` and ``trickle_with_queries`` (the dicts `run.py` writes).
    """
    verdicts = []
    for label in ("10k", "100k"):
        m = sizes.get(label, {}).get("medians", {})
        naive = m.get("naive_spark_s")
        share = _ratio(m.get("plus_1pct_same_s"), naive)
        verdicts.append(
            Verdict(
                f"{label}/plus_1pct",
                f"{label} +1 % new files, warm ≤ {PLUS_ONE_PCT_SHARE:.0%} of the naive recompute",
                f"{m.get('plus_1pct_same_s')} s against {naive} s"
                + (f" = {share:.0%}" if share is not None else ""),
                None if share is None else share <= PLUS_ONE_PCT_SHARE,
            )
        )
        backfill = _ratio(m.get("backfill_s"), naive)
        verdicts.append(
            Verdict(
                f"{label}/backfill",
                f"{label} backfill ≤ {BACKFILL_MAX_RATIO[label]} x the naive recompute",
                f"{m.get('backfill_s')} s against {naive} s"
                + (f" = {backfill:.1f} x" if backfill is not None else ""),
                None if backfill is None else backfill <= BACKFILL_MAX_RATIO[label],
            )
        )
        rerun = m.get("rerun_s")
        verdicts.append(
            Verdict(
                f"{label}/rerun",
                f"{label} re-run with nothing new, warm ≤ {RERUN_MAX_S:g} s",
                f"{rerun} s",
                None if rerun is None else rerun <= RERUN_MAX_S,
            )
        )
        fresh, start = m.get("plus_1pct_fresh_s"), m.get("fresh_session_start_s")
        verdicts.append(
            Verdict(
                f"{label}/fresh_process",
                f"{label} +1 % in a fresh process ≤ session start + {FRESH_PROCESS_MARGIN_S:g} s",
                f"{fresh} s against {start} s + {FRESH_PROCESS_MARGIN_S:g} s",
                None if fresh is None or start is None else fresh <= start + FRESH_PROCESS_MARGIN_S,
            )
        )
    for kind, what in (("trickle_alone", "nothing else running"), ("trickle_with_queries", "")):
        trickle = sizes.get("10k", {}).get(kind) or {}
        p50, p95 = trickle.get("freshness_p50_s"), trickle.get("freshness_p95_s")
        beside = what or (
            f"a DataFusion query every 2 s, {trickle.get('query_datafusion_s_p50')} s p50 each"
        )
        verdicts.append(
            Verdict(
                f"10k/{kind}",
                f"10k continuous freshness p95 ≤ {FRESHNESS_P95_MAX_S:g} s ({beside})",
                f"p50 {p50} s, p95 {p95} s over {trickle.get('files')} files",
                None if p95 is None else p95 <= FRESHNESS_P95_MAX_S,
            )
        )
    served = sizes.get("10k", {}).get("serving") or {}
    p50, p95 = served.get("query_p50_s"), served.get("query_p95_s")
    verdicts.append(
        Verdict(
            "10k/served_query",
            f"`query` while serving, whole process: p50 < {SERVED_QUERY_P50_MAX_S:g} s, "
            f"p95 < {SERVED_QUERY_P95_MAX_S:g} s",
            f"p50 {p50} s, p95 {p95} s over {served.get('query_count')} queries",
            None
            if p50 is None or p95 is None
            else p50 < SERVED_QUERY_P50_MAX_S and p95 < SERVED_QUERY_P95_MAX_S,
        )
    )
    status = served.get("status_p95_s")
    verdicts.append(
        Verdict(
            "10k/served_status",
            f"`status` while serving, whole process < {SERVED_STATUS_MAX_S:g} s (p95)",
            f"p50 {served.get('status_p50_s')} s, p95 {status} s over "
            f"{served.get('status_count')} calls",
            None if status is None else status < SERVED_STATUS_MAX_S,
        )
    )
    verdicts.append(
        Verdict(
            "10k/served_freshness",
            f"freshness while serving and answering (beside the {FRESHNESS_P95_MAX_S:g} s target)",
            f"p50 {served.get('freshness_p50_s')} s, p95 {served.get('freshness_p95_s')} s "
            f"over {served.get('files')} files",
            None
            if served.get("freshness_p95_s") is None
            else served["freshness_p95_s"] <= FRESHNESS_P95_MAX_S,
        )
    )
    small = sizes.get("10k", {}).get("medians", {}).get("jvm_peak_rss_mb")
    large = sizes.get("100k", {}).get("medians", {}).get("jvm_peak_rss_mb")
    memory = _ratio(large, small)
    verdicts.append(
        Verdict(
            "memory",
            f"peak memory at 100k ≤ {PEAK_MEMORY_MAX_RATIO} x at 10k",
            f"{large} MiB against {small} MiB"
            + (f" = {memory:.2f} x" if memory is not None else ""),
            None if memory is None else memory <= PEAK_MEMORY_MAX_RATIO,
        )
    )
    return verdicts


def by_size(reports: list[dict]) -> dict[str, dict]:
    """Sizes from one or more `run.py` reports: what a later report measured replaces the
    earlier figure (a 10k run without the trickle keeps an earlier run's trickle)."""
    sizes: dict[str, dict] = {}
    for report in reports:
        for size in report["sizes"]:
            entry = sizes.setdefault(size["size"], {})
            entry["medians"] = size.get("medians", {})
            for kind in ("trickle_alone", "trickle_with_queries", "serving"):
                found = next((r[kind] for r in size.get("runs", []) if kind in r), None)
                if found:
                    entry[kind] = found
    return sizes
