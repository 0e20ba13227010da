"""EIP-712 signed custody handoffs: the typed data both parties sign, and its checks.

Domain: name "OriginTrace", version "1", chainId, verifyingContract (the registry).
    Handoff(bytes32 id,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)
    BatchHandoff(bytes32[] ids,address from,address to,uint256 fromNonce,uint256 toNonce,uint256 deadline)
The nonces are each signer's current `nonces(address)` on the registry, so a signature
works once, on one chain, for one contract. `typed_data` returns exactly the JSON that a
wallet's `eth_signTypedData_v4` signs.
"""

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

DOMAIN_NAME = "OriginTrace"
DOMAIN_VERSION = "1"
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
_COMMON = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "fromNonce", "type": "uint256"},
    {"name": "toNonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Handoff": [{"name": "id", "type": "bytes32"}, *_COMMON],
    "BatchHandoff": [{"name": "ids", "type": "bytes32[]"}, *_COMMON],
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


def typed_data(registry: Contract, request: HandoffRequest) -> dict[str, Any]:
    """The EIP-712 typed data (domain, types, primaryType, message) at the current nonces."""
    nonces = registry.functions.nonces
    message: dict[str, Any] = {
        "from": Web3.to_checksum_address(request.sender),
        "to": Web3.to_checksum_address(request.receiver),
        "fromNonce": nonces(request.sender).call(),
        "toNonce": nonces(request.receiver).call(),
        "deadline": request.deadline,
    }
    primary = "BatchHandoff" if request.is_batch else "Handoff"
    ids = ["0x" + i.hex() for i in request.ids]
    message = {"ids": ids, **message} if request.is_batch else {"id": ids[0], **message}
    return {
        "types": {"EIP712Domain": TYPES["EIP712Domain"], primary: TYPES[primary]},
        "primaryType": primary,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": registry.w3.eth.chain_id,
            "verifyingContract": registry.address,
        },
        "message": message,
    }


def sign(account: LocalAccount, data: dict[str, Any]) -> str:
    """`account`'s 65-byte signature of the typed data, 0x-hex."""
    signed = account.sign_message(encode_typed_data(full_message=data))
    return "0x" + bytes(signed.signature).hex()


def digest(registry: Contract, request: HandoffRequest) -> bytes:
    """The digest the registry checks, computed by the registry itself (its EIP-712 code)."""
    args = (request.sender, request.receiver, request.deadline)
    if request.is_batch:
        value: bytes = registry.functions.batchHandoffDigest(list(request.ids), *args).call()
    else:
        value = registry.functions.handoffDigest(request.ids[0], *args).call()
    return value


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
