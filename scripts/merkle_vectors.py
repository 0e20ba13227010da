"""Write tests/vectors/merkle.json: lot trees, roots and proofs that forge and pytest both check.

    .venv/bin/python scripts/merkle_vectors.py

The inputs are fixed (keccak of short texts), so running it again rewrites the same file unless
the tree rule in app/chain/merkle.py changed. Sizes cover one leaf, even and odd levels and an
unpaired node carried up through several levels (17 = 16 + 1); items share metadata hashes.
"""

import json
from pathlib import Path

from eth_utils.crypto import keccak

from app.chain.merkle import LotTree, leaf_hash

SIZES = (1, 2, 3, 5, 8, 17)
OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "merkle.json"
ENCODING = (
    "leaf = keccak256(keccak256(abi.encode(bytes32 itemId, bytes32 metadataHash))); "
    "node = keccak256(sorted pair); level 0 = leaves by ascending itemId, "
    "an unpaired last node is carried up unchanged (app/chain/merkle.py)"
)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def vectors() -> dict[str, object]:
    trees = []
    for size in SIZES:
        entries = [
            (keccak(text=f"vector {size} item {i}"), keccak(text=f"vector {size} metadata {i % 3}"))
            for i in range(size)
        ]
        tree = LotTree.build(entries)
        items = [
            {
                "itemId": _hex(item_id),
                "metadataHash": _hex(metadata),
                "leaf": _hex(leaf_hash(item_id, metadata)),
                "proof": [_hex(p) for p in tree.proof(item_id, metadata)],
            }
            for item_id, metadata in entries
        ]
        trees.append({"size": size, "root": _hex(tree.root), "items": items})
    return {"encoding": ENCODING, "trees": trees}


def main() -> None:
    OUT.write_text(json.dumps(vectors(), indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
