"""CI's two runs share the browser and `once` tests out: each runs in exactly one of them."""

from __future__ import annotations

import pytest

from tests import sharding

BROWSER = [f"tests/test_browser_{name}.py::test_it" for name in "abcdefg"]
ONCE = ["tests/test_api_live.py::test_schema", "tests/test_operations.py::test_dev_start"]


def test_each_long_test_runs_in_exactly_one_of_the_runs() -> None:
    kept = [set(BROWSER + ONCE) - sharding.left_out([BROWSER, ONCE], index, 2) for index in (1, 2)]
    assert kept[0] | kept[1] == set(BROWSER + ONCE)
    assert not kept[0] & kept[1]
    # Each kind is halved on its own: the two long `once` tests go to different runs.
    assert [len(set(ONCE) & run) for run in kept] == [1, 1]
    assert sorted(len(set(BROWSER) & run) for run in kept) == [3, 4]


def test_one_run_keeps_everything() -> None:
    assert sharding.left_out([BROWSER, ONCE], 1, 1) == set()


@pytest.mark.parametrize("shard", ["", "2", "1/2/3", "a/2", "0/2", "3/2", "-1/2"])
def test_a_malformed_shard_is_refused_with_the_reason(shard: str) -> None:
    with pytest.raises(ValueError, match="RELATA_SHARD"):
        sharding.parse(shard)


def test_a_shard_is_read() -> None:
    assert sharding.parse("2/2") == (2, 2)
