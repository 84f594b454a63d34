"""serve's result cache is bounded by the bytes of the answers it holds."""

from __future__ import annotations

import json

from streaming.read.result_cache import ResultCache


def answer(size: int) -> dict:
    return {"columns": ["v"], "rows": [["x" * size]]}


def test_the_oldest_used_answers_go_first_once_the_bytes_are_spent():
    one = len(json.dumps(answer(100)))
    cache = ResultCache(max_bytes=one * 4)  # room for four
    for key in "abcd":
        cache.put(key, answer(100))
    assert cache.get("a") is not None  # a is now the newest used
    cache.put("e", answer(100))
    assert cache.get("b") is None and cache.get("a") is not None
    assert len(cache) == 4 and cache.bytes <= cache.max_bytes


def test_an_answer_larger_than_a_quarter_of_the_cache_is_not_kept():
    cache = ResultCache(max_bytes=1000)
    cache.put("big", answer(300))
    assert cache.get("big") is None and cache.bytes == 0
    cache.put("small", answer(10))
    assert cache.get("small") == answer(10)


def test_putting_a_key_again_replaces_its_bytes():
    cache = ResultCache(max_bytes=10_000)
    cache.put("k", answer(100))
    cache.put("k", answer(10))
    assert cache.bytes == len(json.dumps(answer(10))) and len(cache) == 1
