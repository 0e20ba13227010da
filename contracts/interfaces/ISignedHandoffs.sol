// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ISignedHandoffs
/// @notice One-transaction custody handoffs carrying EIP-712 signatures of both the current
/// custodian and the receiver, submitted by anyone (a relayer can pay the gas).
/// @dev Domain: name "OriginTrace", version "1", chainId, verifyingContract (the registry). Types:
///   Handoff(bytes32 id,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)
///   BatchHandoff(bytes32[] ids,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)
/// Both parties sign the same struct. The nonces are the signers' current `nonces(owner)`
/// (OpenZeppelin {Nonces}; they only increase); a handoff
/// uses both, so a signature works once, on one chain, for one contract. ERC-1271 contract
/// wallets sign through `isValidSignature`.
interface ISignedHandoffs {
    /// @notice A signed handoff from `from` to `to` used nonces `fromNonce` and `toNonce`
    /// (each signer's next nonce is now one higher); {CustodyTransferred} follows per record.
    event HandoffSigned(address indexed from, address indexed to, uint256 fromNonce, uint256 toNonce);

    /// @notice The handoff's deadline `deadline` has passed.
    error HandoffExpired(uint256 deadline);

    /// @notice The signature of `signer` does not sign this handoff with its current nonce.
    error HandoffInvalidSignature(address signer);

    /// @notice Hands record `id` from `from` to `to`, both of whom signed a {Handoff}.
    /// @dev Requirements: `from` is custodian and the record is Active and not packed; `to` is
    /// another member; both signatures valid for the current nonces; `deadline` not passed; not
    /// paused. Emits {HandoffSigned}, {CustodyTransferred}.
    function handoffSigned(
        bytes32 id,
        address from,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) external;

    /// @notice Hands records `ids` (units, lots, items) from `from` to `to` under one {BatchHandoff} signature pair.
    /// @dev As {handoffSigned} for each id; 1 to MAX_BATCH ids. Emits {HandoffSigned}, then
    /// {CustodyTransferred} per record.
    function handoffSignedBatch(
        bytes32[] calldata ids,
        address from,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) external;

    /// @notice EIP-712 digest both parties sign for a single handoff, at the current nonces.
    function handoffDigest(bytes32 id, address from, address to, uint256 deadline) external view returns (bytes32);

    /// @notice EIP-712 digest both parties sign for a batch handoff, at the current nonces.
    function batchHandoffDigest(bytes32[] calldata ids, address from, address to, uint256 deadline)
        external
        view
        returns (bytes32);
}
