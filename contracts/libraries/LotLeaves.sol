// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title LotLeaves
/// @notice The Merkle leaf of an item in a lot, shared with the Python side (app/chain/merkle.py).
/// @dev leaf = keccak256(bytes.concat(keccak256(abi.encode(itemId, metadataHash))))
/// That is OpenZeppelin StandardMerkleTree's leaf for the value types ["bytes32", "bytes32"]:
/// hashing twice makes a leaf (64-byte preimage, hashed again) impossible to confuse with an
/// inner node (hash of two sorted 32-byte children), which defeats second-preimage attacks.
/// Inner nodes hash the sorted pair (OpenZeppelin {MerkleProof}, order-agnostic). The tree
/// shape is app/chain/merkle.py's: leaves ordered by ascending item id, pairs hashed level by
/// level, an unpaired last node carried up unchanged; verification needs none of that.
/// Test vectors: tests/vectors/merkle.json (checked by forge and pytest).
library LotLeaves {
    /// @notice Leaf of item `itemId` with metadata hash `metadataHash`.
    function leaf(bytes32 itemId, bytes32 metadataHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(itemId, metadataHash))));
    }
}
