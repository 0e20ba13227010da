"""EIP-712 signed custody handoffs: the typed data both parties sign, and its checks.

It mirrors `contracts/interfaces/ISignedHandoffs.sol`: domain "OriginTrace" version "1" on
the registry's chain and address;
    Handoff(bytes32 id,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)
    BatchHandoff(bytes32[] ids,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)
The struct carries both signers' current nonces, so a signature works once, on one chain,
for one registry. `handoff_typed_data` returns exactly the JSON a wallet's
`eth_signTypedData_v4` signs; a relayer submits the two signatures with `handoffSigned`
(one record) or `handoffSignedBatch` (many) and pays the gas.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

DOMAIN_NAME = "OriginTrace"
DOMAIN_VERSION = "1"
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
_PARTIES = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "fromNonce", "type": "uint256"},
    {"name": "toNonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Handoff": [{"name": "id", "type": "bytes32"}, *_PARTIES],
    "BatchHandoff": [{"name": "ids", "type": "bytes32[]"}, *_PARTIES],
}
_ERC1271_ABI = [
    {
        "type": "function",
        "name": "isValidSignature",
        "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "", "type": "bytes4"}],
    }
]


@dataclass(frozen=True)
class HandoffRequest:
    """What both parties agree on: records `ids` move from `sender` to `receiver` before `deadline`."""

    ids: tuple[bytes, ...]
    sender: str
    receiver: str
    deadline: int

    @property
    def is_batch(self) -> bool:
        return len(self.ids) != 1


def handoff_typed_data(
    registry: Contract, ids: bytes | Sequence[bytes], sender: str, receiver: str, deadline: int
) -> dict[str, Any]:
    """The EIP-712 typed data (JSON-ready) for moving `ids` (one id, or a list for a batch) now."""
    batch = not isinstance(ids, bytes)
    primary = "BatchHandoff" if batch else "Handoff"
    sender, receiver = Web3.to_checksum_address(sender), Web3.to_checksum_address(receiver)
    hex_ids = ["0x" + i.hex() for i in ([ids] if isinstance(ids, bytes) else ids)]
    message: dict[str, Any] = {
        ("ids" if batch else "id"): hex_ids if batch else hex_ids[0],
        "from": sender,
        "to": receiver,
        "fromNonce": registry.functions.nonces(sender).call(),
        "toNonce": registry.functions.nonces(receiver).call(),
        "deadline": deadline,
    }
    types = {"EIP712Domain": TYPES["EIP712Domain"], primary: TYPES[primary]}
    return {"types": types, "primaryType": primary, "domain": registry_domain(registry), "message": message}


def registry_domain(registry: Contract) -> dict[str, Any]:
    """The EIP-712 domain of `registry`'s signatures (handoffs and claims)."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": registry.w3.eth.chain_id,
        "verifyingContract": registry.address,
    }


def request_typed_data(registry: Contract, request: HandoffRequest) -> dict[str, Any]:
    ids: bytes | Sequence[bytes] = list(request.ids) if request.is_batch else request.ids[0]
    return handoff_typed_data(registry, ids, request.sender, request.receiver, request.deadline)


def handoff_digest(typed_data: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest of `typed_data` (what the contract's digest views return)."""
    signable = encode_typed_data(full_message=typed_data)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_handoff(account: LocalAccount, typed_data: dict[str, Any]) -> bytes:
    """`account`'s 65-byte signature of `typed_data`."""
    return bytes(account.sign_typed_data(full_message=typed_data).signature)


def signature_valid(w3: Web3, signer: str, message_digest: bytes, signature: bytes) -> bool:
    """Whether `signature` by `signer` signs `message_digest`: ecrecover, or ERC-1271 for contracts."""
    signer = Web3.to_checksum_address(signer)
    if w3.eth.get_code(signer):
        wallet = w3.eth.contract(address=signer, abi=_ERC1271_ABI)
        try:
            return bytes(wallet.functions.isValidSignature(message_digest, signature).call()) == ERC1271_MAGIC
        except Exception:  # a wallet that reverts or returns garbage does not sign
            return False
    try:
        recovered: str = Account._recover_hash(message_digest, signature=signature)
    except Exception:  # malformed signature bytes
        return False
    return recovered == signer


def onchain_digest(registry: Contract, request: HandoffRequest) -> bytes:
    """The digest the registry checks, computed by the registry's own EIP-712 code."""
    args = (request.sender, request.receiver, request.deadline)
    if request.is_batch:
        value: bytes = registry.functions.batchHandoffDigest(list(request.ids), *args).call()
    else:
        value = registry.functions.handoffDigest(request.ids[0], *args).call()
    return value
