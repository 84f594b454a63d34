"""``run``: the four streams, available-now or continuous."""

from __future__ import annotations

import argparse
import signal
import threading

from checkpoints_config import PipelineConfig, Trigger
from streaming.cli import access
from streaming.cli.options import add_maintain_every, config_of, location, say

NAME = "run"
HELP = "run bronze → silver → gold"
DESCRIPTION = (
    "Run the four streams with their checkpoints. available-now catches up with everything "
    "landed and stops; continuous keeps running micro-batches until Ctrl-C, then stops "
    "cleanly (an interrupted batch is redone, exactly once)."
)
OPTIONS = location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trigger",
        choices=("available-now", "continuous"),
        default="available-now",
        help="available-now (default) or continuous",
    )
    parser.add_argument(
        "--interval", default="5s", help="micro-batch interval in continuous mode (default 5s)"
    )
    add_maintain_every(parser)


def execute(args: argparse.Namespace) -> int:
    from streaming.pipeline.runner import check_landing, run_continuous

    config = config_of(args).with_trigger(Trigger(args.trigger, args.interval))
    check_landing(config)
    access.refuse_while_serving(config, "run")
    spark = access.spark(config, always_on=not config.bronze.trigger.one_shot)
    if config.bronze.trigger.one_shot:
        catch_up(spark, config)
        return 0
    stop = stop_on_signals()
    say(f"running continuously every {config.bronze.trigger.interval}; Ctrl-C stops")
    summary = run_continuous(spark, config, stop, say=say)
    for stream in summary.streams:
        print_stream(stream)
    say("stopped cleanly")
    return 0


def stop_on_signals() -> threading.Event:
    """An event that Ctrl-C or SIGTERM sets, for a clean stop of a continuous run.

    Only the main thread may install signal handlers; called elsewhere (an entry point
    run on another thread), the run stops when its process does.
    """
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def catch_up(spark, config: PipelineConfig) -> None:
    """Run the chain available-now, a line per batch as it ends and per stream when done."""
    from streaming.pipeline.runner import run_available_now
    from streaming.read.progress import BatchLines

    say("running bronze → silver → gold, and quality beside them (available-now)")
    run_available_now(
        spark, config, on_stream_done=print_stream, say=say, on_batch=BatchLines(config, say)
    )


def print_stream(stream) -> None:
    last = "-" if stream.last_batch_id is None else stream.last_batch_id
    say(f"  {stream.name:<6} {stream.batches} batches, {stream.input_rows} rows, last batch {last}")
