"""Proofs from a compact lot store: the 16-leaf chunk of an item plus the stored upper levels.

A store keeps a lot's item ids sorted, their metadata, and the tree levels from CHUNK_LEVELS up
(`BuiltLot.upper`, app/scale/native.py). Node j of level k covers leaves [j * 2**k, (j + 1) *
2**k), so the chunk of CHUNK leaves holding position i determines the bottom CHUNK_LEVELS levels
of i's proof; the rest are siblings read from the stored levels. A lookup costs about 50 keccaks
(two per leaf of the chunk, one per inner node of it).
"""

from app.chain.merkle import HASH_LEN, leaf_hash, next_level
from app.scale.shape import CHUNK, first_stored_level, level_sizes


def _split(buffer: bytes, name: str) -> list[bytes]:
    if len(buffer) % HASH_LEN:
        raise ValueError(f"{name} must be a whole number of 32-byte hashes")
    return [buffer[k : k + HASH_LEN] for k in range(0, len(buffer), HASH_LEN)]


def proof_from_chunk(
    position: int, n: int, chunk_ids: bytes, chunk_metadata: bytes, upper: bytes | memoryview
) -> list[bytes]:
    """The proof (siblings leaf to root) of the item at sorted `position` of a lot of `n` items.

    `chunk_ids` and `chunk_metadata`: the 32-byte ids and metadata hashes of the items at
    positions CHUNK * (position // CHUNK) up to CHUNK more (fewer in the last chunk), each
    concatenated; `upper`: the stored levels of the lot (`BuiltLot.upper`). Raises ValueError
    when the chunk does not hash to the stored node above it (a corrupt or mismatched store).
    """
    if not 0 <= position < n:
        raise IndexError(f"position {position} is outside a lot of {n} items")
    sizes = level_sizes(n)
    start = position - position % CHUNK
    expected = min(CHUNK, n - start)
    ids, metadata = _split(chunk_ids, "chunk_ids"), _split(chunk_metadata, "chunk_metadata")
    if len(ids) != expected or len(metadata) != expected:
        raise ValueError(f"the chunk at position {start} of {n} items holds {expected} items")

    first = first_stored_level(n)
    proof: list[bytes] = []
    level = [leaf_hash(item_id, md) for item_id, md in zip(ids, metadata, strict=True)]
    index = position - start
    for _ in range(first):
        if index ^ 1 < len(level):
            proof.append(level[index ^ 1])
        level, index = next_level(level), index // 2

    offset = 0
    for k in range(first, len(sizes)):
        stored = upper[offset : offset + HASH_LEN * sizes[k]]
        offset += HASH_LEN * sizes[k]
        node = position >> k
        if k == first and stored[HASH_LEN * node : HASH_LEN * (node + 1)] != level[0]:
            raise ValueError(f"the chunk at position {start} does not match the stored tree")
        if k < len(sizes) - 1 and node ^ 1 < sizes[k]:
            proof.append(bytes(stored[HASH_LEN * (node ^ 1) : HASH_LEN * ((node ^ 1) + 1)]))
    if offset != len(upper):
        raise ValueError(f"upper holds {len(upper)} bytes; the stored levels of {n} items take {offset}")
    return proof
