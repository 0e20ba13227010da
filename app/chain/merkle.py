"""Merkle trees of lots: the leaf encoding, tree shape and proofs the registry verifies on chain.

The leaf is OpenZeppelin StandardMerkleTree's for the value types ("bytes32", "bytes32"):

    leaf = keccak256(keccak256(abi.encode(itemId, metadataHash)))

and each inner node is keccak256 of its two children in ascending byte order (OpenZeppelin
`MerkleProof`, which is order-agnostic). Hashing leaves twice keeps a leaf from ever passing
as an inner node (second-preimage resistance).

The shape is ours, chosen so a compact store can serve proofs:

- level 0 is the leaves ordered by ascending item id (bytes32); an item id may appear once;
- node j of level k+1 is `hash_pair(level_k[2j], level_k[2j+1])`; an unpaired last node of a
  level is carried up unchanged;
- the root is the single node of the top level; a proof lists the siblings that exist from the
  leaf up (a level where the node had no sibling contributes nothing).

Why: a store that keeps a lot's item ids sorted finds an item by binary search, and node j of
level k covers exactly the leaves [j * 2**k, (j + 1) * 2**k). So the store keeps only the levels
from 4 up and rebuilds the bottom four levels of a proof from the 16-leaf chunk (ids and
metadata) that holds the item (app/scale/proofs.py). On-chain verification is unchanged.
`contracts/libraries/LotLeaves.sol` is the Solidity side; tests/vectors/merkle.json
(scripts/merkle_vectors.py) is checked by both forge and pytest.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from eth_utils.crypto import keccak

HASH_LEN = 32


def _check(name: str, value: bytes) -> None:
    if len(value) != HASH_LEN:
        raise ValueError(f"{name} must be 32 bytes, got {len(value)}")


def leaf_hash(item_id: bytes, metadata_hash: bytes) -> bytes:
    """The leaf of item `item_id` with `metadata_hash` (both 32 bytes)."""
    _check("item_id", item_id)
    _check("metadata_hash", metadata_hash)
    return keccak(keccak(item_id + metadata_hash))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """An inner node: keccak256 of the two children in ascending order."""
    return keccak(a + b if a < b else b + a)


def next_level(level: Sequence[bytes]) -> list[bytes]:
    """The level above `level`: pairs hashed, an unpaired last node carried up unchanged."""
    above = [hash_pair(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        above.append(level[-1])
    return above


@dataclass(frozen=True)
class LotTree:
    """A lot's Merkle tree: `levels[0]` is the leaves in item id order, `levels[-1]` the root."""

    levels: tuple[tuple[bytes, ...], ...]
    position: dict[bytes, int]

    @classmethod
    def build(cls, entries: Sequence[tuple[bytes, bytes]]) -> "LotTree":
        """The tree of the (item id, metadata hash) pairs `entries`."""
        if not entries:
            raise ValueError("a lot needs at least one item")
        ordered = sorted(entries)
        for (a, _), (b, _) in pairwise(ordered):
            if a == b:
                raise ValueError(f"a lot cannot list item 0x{a.hex()} twice")
        level = [leaf_hash(item_id, metadata) for item_id, metadata in ordered]
        levels = [tuple(level)]
        while len(level) > 1:
            level = next_level(level)
            levels.append(tuple(level))
        return cls(tuple(levels), {item_id: i for i, (item_id, _) in enumerate(ordered)})

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, item_id: bytes, metadata_hash: bytes) -> list[bytes]:
        """Sibling hashes from the item's leaf up to the root."""
        index = self.position.get(item_id)
        if index is None or self.levels[0][index] != leaf_hash(item_id, metadata_hash):
            raise KeyError(f"item 0x{item_id.hex()} with that metadata hash is not in this lot")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """Whether `proof` links `leaf` to `root` (what `MerkleProof.verify` computes on chain)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
