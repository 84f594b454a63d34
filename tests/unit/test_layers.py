"""The pipeline's shape: which layers form the chain to gold, and what a reset reaches."""

from __future__ import annotations

import pytest

from streaming.pipeline.layers import LAYERS, chain_and_beside, downstream_of


def test_the_chain_runs_to_gold_and_the_quality_stream_beside_it():
    chain, beside = chain_and_beside(LAYERS)
    assert [layer.name for layer in chain] == ["bronze", "silver", "gold"]
    assert [layer.name for layer in beside] == ["quality"]


@pytest.mark.parametrize(
    ("first", "reached"),
    [
        ("bronze", ["bronze", "silver", "gold", "quality"]),
        ("silver", ["silver", "gold"]),
        ("gold", ["gold"]),
        ("quality", ["quality"]),
    ],
)
def test_a_reset_reaches_every_layer_its_layer_feeds_and_no_other(first, reached):
    assert [layer.name for layer in downstream_of(first)] == reached
