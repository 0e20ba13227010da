// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAttestations
/// @notice Certifiers attest facts (kind, evidence hash, URI) about items or lots and can revoke
/// their own attestations; a customs office attests its clearance (kind "CUSTOMS_CLEARANCE") the same way.
/// @dev attestationId = keccak256(abi.encode(subject, certifier, kind, dataHash)).
interface IAttestations {
    /// @notice `certifier` attested a fact of `kind` (e.g. "GRADING_REPORT") about `itemId`.
    /// @dev Kept for the original indexer; {AttestationRecorded} follows with the id and URI.
    event ItemAttested(bytes32 indexed itemId, address indexed certifier, bytes32 indexed kind, bytes32 dataHash);

    /// @notice Attestation `attestationId` of `certifier` about `subject` (item or lot) was recorded.
    event AttestationRecorded(
        bytes32 indexed attestationId,
        bytes32 indexed subject,
        address indexed certifier,
        bytes32 kind,
        bytes32 dataHash,
        string uri
    );

    /// @notice `certifier` revoked its attestation `attestationId` about `subject`.
    event AttestationRevoked(bytes32 indexed attestationId, bytes32 indexed subject, address indexed certifier);

    /// @notice The same certifier already attested the same kind and data about the same subject.
    error AttestationExists(bytes32 attestationId);

    /// @notice `attestationId` is unknown, already revoked, or not the caller's.
    error AttestationNotRevocable(bytes32 attestationId, address account);

    /// @notice Records a certifier's attestation of `kind` with evidence `dataHash`.
    /// @dev Requirements: caller has CERTIFIER_ROLE, or CUSTOMS_ROLE for kind "CUSTOMS_CLEARANCE"
    /// (else AccessControlUnauthorizedAccount naming CERTIFIER_ROLE); the item or lot exists; not paused.
    /// Emits {ItemAttested}, {AttestationRecorded} (empty URI).
    function attest(bytes32 itemId, bytes32 kind, bytes32 dataHash) external;

    /// @notice Records an attestation with evidence `dataHash` published at `uri`.
    /// @dev As the three-argument {attest}. Emits {ItemAttested}, {AttestationRecorded}.
    function attest(bytes32 subject, bytes32 kind, bytes32 dataHash, string calldata uri) external;

    /// @notice Revokes the caller's attestation `attestationId`.
    /// @dev Requirements: caller is its certifier; not revoked yet; not paused. Emits {AttestationRevoked}.
    function revokeAttestation(bytes32 attestationId) external;

    /// @notice Certifier of `attestationId` and whether it was revoked (zero address when unknown).
    function attestationOf(bytes32 attestationId) external view returns (address certifier, bool revoked);
}
