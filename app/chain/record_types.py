"""The registry's enums as Python sees them (mirrors `contracts/types/RecordTypes.sol`), and the
id rule of its attestations (`contracts/registry/Attestations.sol`)."""

from eth_abi.abi import encode
from eth_utils.crypto import keccak

STATUS_NAMES = ("none", "active", "offered", "sold", "recalled", "claimed", "lost", "destroyed")
"""`Status` values by number: `STATUS_NAMES[registry.statusOf(id)]`."""
KIND_NAMES = ("item", "lot", "unit")
"""`Kind` values by number: `KIND_NAMES[registry.kindOf(id)]`."""


def attestation_id(subject: bytes, certifier: str, kind: bytes, data_hash: bytes) -> bytes:
    """keccak256(abi.encode(subject, certifier, kind, dataHash)): the id the registry gives an
    attestation, and revokes it by."""
    return keccak(encode(["bytes32", "address", "bytes32", "bytes32"], [subject, certifier, kind, data_hash]))
