"""Lot Merkle trees: the Python side of the leaf encoding agrees with the shared vectors."""

import json

import pytest
from eth_utils.crypto import keccak

from app.chain.merkle import LotTree, hash_pair, leaf_hash, verify
from app.core.config import PROJECT_ROOT

VECTORS = json.loads((PROJECT_ROOT / "tests" / "vectors" / "merkle.json").read_text())["trees"]


def _b(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str.removeprefix("0x"))


@pytest.mark.parametrize("tree", VECTORS, ids=[f"{t['size']}-items" for t in VECTORS])
def test_tree_matches_shared_vectors(tree: dict) -> None:  # type: ignore[type-arg]
    entries = [(_b(i["itemId"]), _b(i["metadataHash"])) for i in tree["items"]]
    built = LotTree.build(entries)
    assert "0x" + built.root.hex() == tree["root"]
    for entry, vector in zip(entries, tree["items"], strict=True):
        assert "0x" + leaf_hash(*entry).hex() == vector["leaf"]
        proof = built.proof(*entry)
        assert ["0x" + p.hex() for p in proof] == vector["proof"]
        assert verify(proof, built.root, leaf_hash(*entry))


def test_vectors_cover_odd_and_even_trees() -> None:
    assert {t["size"] for t in VECTORS} >= {1, 2, 3, 5, 17}


def test_leaf_is_double_hashed_abi_encoding() -> None:
    item_id, metadata = keccak(text="item"), keccak(text="meta")
    # abi.encode(bytes32, bytes32) is the plain 64-byte concatenation.
    assert leaf_hash(item_id, metadata) == keccak(keccak(item_id + metadata))
    # A leaf never equals the inner node of the same two words.
    assert leaf_hash(item_id, metadata) != hash_pair(item_id, metadata)


def test_proof_fails_for_wrong_metadata_or_root() -> None:
    entries = [(keccak(text=f"item {i}"), keccak(text=f"meta {i}")) for i in range(6)]
    tree = LotTree.build(entries)
    proof = tree.proof(*entries[3])
    assert not verify(proof, tree.root, leaf_hash(entries[3][0], keccak(text="forged")))
    assert not verify(proof, keccak(text="other root"), leaf_hash(*entries[3]))


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        LotTree.build([])
    with pytest.raises(ValueError, match="32 bytes"):
        leaf_hash(b"short", keccak(text="meta"))
    pair = (keccak(text="a"), keccak(text="b"))
    with pytest.raises(ValueError, match="twice"):
        LotTree.build([pair, pair])
    with pytest.raises(KeyError, match="not in this lot"):
        LotTree.build([pair]).proof(keccak(text="c"), keccak(text="d"))


def test_shape_orders_leaves_by_item_id_and_carries_the_unpaired_node_up() -> None:
    entries = [(keccak(text=f"item {i}"), keccak(text="shared meta")) for i in range(5)]
    a, b, c, d, e = (leaf_hash(*entry) for entry in sorted(entries))
    tree = LotTree.build(entries)
    # Level 1 is (ab, cd, e), level 2 (abcd, e), level 3 the root: e is carried up twice.
    assert tree.root == hash_pair(hash_pair(hash_pair(a, b), hash_pair(c, d)), e)
    assert tree.proof(*sorted(entries)[4]) == [hash_pair(hash_pair(a, b), hash_pair(c, d))]
    assert tree.proof(*sorted(entries)[2]) == [d, hash_pair(a, b), e]


def test_an_item_id_may_appear_once_whatever_its_metadata() -> None:
    item = keccak(text="item")
    with pytest.raises(ValueError, match=f"0x{item.hex()} twice"):
        LotTree.build([(item, keccak(text="a")), (item, keccak(text="b"))])
    with pytest.raises(KeyError, match="not in this lot"):
        LotTree.build([(item, keccak(text="a"))]).proof(item, keccak(text="b"))
