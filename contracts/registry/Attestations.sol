// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAttestations} from "../interfaces/IAttestations.sol";
import {Kind} from "../types/RecordTypes.sol";
import {Records} from "./Records.sol";

/// @title Attestations
/// @notice Certifier attestations about items and lots, revocable by their certifier. See {IAttestations}.
abstract contract Attestations is Records {
    /// @notice The one kind a customs office (CUSTOMS_ROLE) attests without CERTIFIER_ROLE: its
    /// clearance of the goods.
    bytes32 public constant CUSTOMS_CLEARANCE = "CUSTOMS_CLEARANCE";

    struct Attestation {
        address certifier;
        bool revoked;
        bytes32 subject;
    }

    mapping(bytes32 attestationId => Attestation) private _attestations;

    /// @inheritdoc IAttestations
    function attest(bytes32 id, bytes32 kind, bytes32 dataHash) external {
        _attest(id, kind, dataHash, "");
    }

    /// @inheritdoc IAttestations
    function attest(bytes32 subject, bytes32 kind, bytes32 dataHash, string calldata uri) external {
        _attest(subject, kind, dataHash, uri);
    }

    /// @inheritdoc IAttestations
    function revokeAttestation(bytes32 attestationId) external whenNotPaused {
        Attestation storage attestation = _attestations[attestationId];
        if (attestation.certifier != msg.sender || attestation.revoked) {
            revert AttestationNotRevocable(attestationId, msg.sender);
        }
        attestation.revoked = true;
        emit AttestationRevoked(attestationId, attestation.subject, msg.sender);
    }

    /// @inheritdoc IAttestations
    function attestationOf(bytes32 attestationId) external view returns (address certifier, bool revoked) {
        Attestation storage attestation = _attestations[attestationId];
        return (attestation.certifier, attestation.revoked);
    }

    function _attest(bytes32 subject, bytes32 kind, bytes32 dataHash, string memory uri) private whenNotPaused {
        // A certifier attests any kind; a customs office only its clearance.
        if (!hasRole(CERTIFIER_ROLE, msg.sender)) {
            if (kind != CUSTOMS_CLEARANCE || !hasRole(CUSTOMS_ROLE, msg.sender)) {
                revert AccessControlUnauthorizedAccount(msg.sender, CERTIFIER_ROLE);
            }
        }
        Record storage record = _existing(subject);
        if (record.kind == Kind.Unit) revert RegistryInvalidKind(subject, record.kind);
        bytes32 attestationId = keccak256(abi.encode(subject, msg.sender, kind, dataHash));
        if (_attestations[attestationId].certifier != address(0)) revert AttestationExists(attestationId);
        _attestations[attestationId] = Attestation({certifier: msg.sender, revoked: false, subject: subject});
        emit ItemAttested(subject, msg.sender, kind, dataHash);
        emit AttestationRecorded(attestationId, subject, msg.sender, kind, dataHash, uri);
    }
}
