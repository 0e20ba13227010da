// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ISignedHandoffs} from "../interfaces/ISignedHandoffs.sol";
import {Records} from "./Records.sol";

/// @title SignedHandoffs
/// @notice Relayable two-party EIP-712 custody handoffs. See {ISignedHandoffs}.
abstract contract SignedHandoffs is Records, EIP712, Nonces {
    bytes32 private constant HANDOFF_TYPEHASH = keccak256(
        "Handoff(bytes32 id,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)"
    );
    bytes32 private constant BATCH_HANDOFF_TYPEHASH = keccak256(
        "BatchHandoff(bytes32[] ids,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)"
    );

    constructor() EIP712("OriginTrace", "1") {}

    /// @inheritdoc ISignedHandoffs
    function handoffSigned(
        bytes32 id,
        address from,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) external whenNotPaused {
        _checkSignatures(handoffDigest(id, from, to, deadline), from, to, deadline, fromSignature, toSignature);
        _transfer(id, from, to);
    }

    /// @inheritdoc ISignedHandoffs
    function handoffSignedBatch(
        bytes32[] calldata ids,
        address from,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) external whenNotPaused {
        _checkBatch(ids.length);
        _checkSignatures(batchHandoffDigest(ids, from, to, deadline), from, to, deadline, fromSignature, toSignature);
        for (uint256 i = 0; i < ids.length; ++i) {
            _transfer(ids[i], from, to);
        }
    }

    /// @inheritdoc ISignedHandoffs
    function handoffDigest(bytes32 id, address from, address to, uint256 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(HANDOFF_TYPEHASH, id, from, to, nonces(from), nonces(to), deadline)));
    }

    /// @inheritdoc ISignedHandoffs
    function batchHandoffDigest(bytes32[] calldata ids, address from, address to, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        bytes32 idsHash = keccak256(abi.encodePacked(ids));
        return _hashTypedDataV4(
            keccak256(abi.encode(BATCH_HANDOFF_TYPEHASH, idsHash, from, to, nonces(from), nonces(to), deadline))
        );
    }

    /// @dev Checks deadline, receiver and both signatures over `digest`, then uses both nonces.
    function _checkSignatures(
        bytes32 digest,
        address from,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) private {
        // Deadlines are minutes or hours away: a validator's seconds of drift cannot matter.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert HandoffExpired(deadline);
        if (from == to) revert RegistrySelfHandoff(bytes32(0));
        _requireMember(to);
        if (!SignatureChecker.isValidSignatureNow(from, digest, fromSignature)) revert HandoffInvalidSignature(from);
        if (!SignatureChecker.isValidSignatureNow(to, digest, toSignature)) revert HandoffInvalidSignature(to);
        uint256 fromNonce = _useNonce(from);
        uint256 toNonce = _useNonce(to);
        emit HandoffSigned(from, to, fromNonce, toNonce);
    }
}
