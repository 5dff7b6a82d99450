"""Which long tests a CI run leaves to the other run (RELATA_SHARD, root conftest)."""

from __future__ import annotations


def parse(shard: str) -> tuple[int, int]:
    """ "k/n" → (k, n), 1 ≤ k ≤ n; ValueError with the reason otherwise."""
    parts = shard.split("/")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f"RELATA_SHARD={shard!r}: expected k/n")
    index, count = int(parts[0]), int(parts[1])
    if not 1 <= index <= count:
        raise ValueError(f"RELATA_SHARD={shard!r}: k must be within 1..n")
    return index, count


def left_out(kinds: list[list[str]], index: int, count: int) -> set[str]:
    """The node ids the index-th of count runs does not run.

    Each kind (browser tests, `once` tests) is dealt out on its own, in node id order, so the
    few long `once` tests do not land in one run together.
    """
    return {
        node
        for kind in kinds
        for number, node in enumerate(sorted(kind))
        if number % count != index - 1
    }
