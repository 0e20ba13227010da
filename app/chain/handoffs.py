"""EIP-712 signed custody handoffs: the typed data both parties sign, built in Python.

It mirrors `contracts/interfaces/ISignedHandoffs.sol`: domain "OriginTrace" version "1" on
the registry's chain and address; the struct carries both signers' current nonces, so a
signature works once, on one chain, for one registry. A relayer submits the two signatures
with `handoffSigned` (one record) or `handoffSignedBatch` (many) and pays the gas.
"""

from collections.abc import Sequence
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3.contract import Contract

DOMAIN_NAME = "OriginTrace"
DOMAIN_VERSION = "1"
_PARTIES = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "fromNonce", "type": "uint256"},
    {"name": "toNonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
TYPES: dict[str, list[dict[str, str]]] = {
    "Handoff": [{"name": "id", "type": "bytes32"}, *_PARTIES],
    "BatchHandoff": [{"name": "ids", "type": "bytes32[]"}, *_PARTIES],
}


def handoff_typed_data(
    registry: Contract, ids: bytes | Sequence[bytes], sender: str, receiver: str, deadline: int
) -> dict[str, Any]:
    """The EIP-712 message for moving `ids` (one id, or a list for a batch) at the current nonces."""
    batch = not isinstance(ids, bytes)
    primary = "BatchHandoff" if batch else "Handoff"
    message = {
        ("ids" if batch else "id"): list(ids) if batch else ids,
        "from": sender,
        "to": receiver,
        "fromNonce": registry.functions.nonces(sender).call(),
        "toNonce": registry.functions.nonces(receiver).call(),
        "deadline": deadline,
    }
    domain = {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": registry.w3.eth.chain_id,
        "verifyingContract": registry.address,
    }
    return {"domain": domain, "types": {primary: TYPES[primary]}, "primaryType": primary, "message": message}


def handoff_digest(typed_data: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest of `typed_data` (what the contract's digest views return)."""
    signable = encode_typed_data(full_message=typed_data)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_handoff(account: LocalAccount, typed_data: dict[str, Any]) -> bytes:
    """`account`'s 65-byte signature of `typed_data`."""
    return bytes(account.sign_typed_data(full_message=typed_data).signature)
