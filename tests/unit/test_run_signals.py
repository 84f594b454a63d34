"""A continuous run stops on Ctrl-C or SIGTERM, and can be started off the main thread."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from streaming.cli.run import stop_on_signals


@pytest.fixture
def handlers():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_on_the_main_thread_sigterm_sets_the_stop_event(handlers):
    stop = stop_on_signals()
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.wait(5)


def test_off_the_main_thread_no_handler_is_installed_and_nothing_raises(handlers):
    before = signal.getsignal(signal.SIGTERM)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(stop_on_signals()))
    worker.start()
    worker.join()
    (stop,) = outcome  # signal.signal would have raised ValueError in the thread
    assert not stop.is_set() and signal.getsignal(signal.SIGTERM) is before
