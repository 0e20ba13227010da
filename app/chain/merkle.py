"""Merkle trees of lots: the leaf encoding, tree and proofs the registry verifies on chain.

The encoding is OpenZeppelin StandardMerkleTree's for the value types ("bytes32", "bytes32"):

    leaf = keccak256(keccak256(abi.encode(itemId, metadataHash)))

and each inner node is keccak256 of its two children in ascending byte order (OpenZeppelin
`MerkleProof`). Hashing leaves twice keeps a leaf from ever passing as an inner node
(second-preimage resistance). Leaves are sorted by hash and laid out as a complete binary
tree in one array, exactly as StandardMerkleTree does, so roots and proofs agree with it.
`contracts/libraries/LotLeaves.sol` is the Solidity side; tests/vectors/merkle.json is
checked by both forge and pytest.
"""

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class LotTree:
    """A lot's Merkle tree: `nodes[0]` is the root, the leaves fill the end of the array."""

    nodes: tuple[bytes, ...]
    leaf_index: dict[bytes, int]

    @classmethod
    def build(cls, entries: Sequence[tuple[bytes, bytes]]) -> "LotTree":
        """The tree of the (item id, metadata hash) pairs `entries`."""
        if not entries:
            raise ValueError("a lot needs at least one item")
        leaves = sorted(leaf_hash(item_id, metadata) for item_id, metadata in entries)
        if len(set(leaves)) != len(leaves):
            raise ValueError("a lot cannot list the same item and metadata twice")
        size = 2 * len(leaves) - 1
        nodes: list[bytes] = [b""] * size
        for i, leaf in enumerate(leaves):
            nodes[size - 1 - i] = leaf
        for i in range(size - 1 - len(leaves), -1, -1):
            nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
        return cls(tuple(nodes), {node: size - 1 - i for i, node in enumerate(leaves)})

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    def proof(self, item_id: bytes, metadata_hash: bytes) -> list[bytes]:
        """Sibling hashes from the item's leaf up to the root."""
        index = self.leaf_index.get(leaf_hash(item_id, metadata_hash))
        if index is None:
            raise KeyError(f"item 0x{item_id.hex()} with that metadata hash is not in this lot")
        proof = []
        while index > 0:
            proof.append(self.nodes[index + 1 if index % 2 else index - 1])
            index = (index - 1) // 2
        return proof


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """Whether `proof` links `leaf` to `root` (what `MerkleProof.verify` computes on chain)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
