"""The shape of a lot tree over n leaves (app/chain/merkle.py) and which levels a store keeps.

Level k has ceil(n / 2**k) nodes; node j of level k covers leaves [j * 2**k, (j + 1) * 2**k).
A store keeps the levels from CHUNK_LEVELS up (or just the top level when the tree is lower)
and rebuilds the bottom CHUNK_LEVELS levels from the CHUNK leaves that hold an item.
"""

from typing import Final

CHUNK_LEVELS: Final = 4
CHUNK: Final = 1 << CHUNK_LEVELS


def level_sizes(n: int) -> tuple[int, ...]:
    """Node count of every level of a tree over n leaves, leaves first, root (1) last."""
    if n < 1:
        raise ValueError("a lot needs at least one item")
    sizes = [n]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return tuple(sizes)


def first_stored_level(n: int) -> int:
    """The lowest level a store keeps: CHUNK_LEVELS, or the top when the tree is lower."""
    return min(CHUNK_LEVELS, len(level_sizes(n)) - 1)


def stored_level_sizes(n: int) -> tuple[int, ...]:
    """Node count of each stored level, lowest first (the layout of `BuiltLot.upper`)."""
    return level_sizes(n)[first_stored_level(n) :]
