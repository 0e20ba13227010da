"""Consumer claims: the one-time claim code a retailer hands the buyer, and its signature.

It mirrors `claim` and `claimDigest` in `contracts/interfaces/IOriginRegistry.sol`. A claim
code is a fresh secp256k1 private key; `markSold(id, claimKey)` stores only its address. To
claim, the code signs the EIP-712 struct `Claim(bytes32 id,address to)` (the handoffs'
domain: "OriginTrace" version "1", this chain and registry) and anyone submits
`claim(id, to, signature)`. The code never appears on chain and the signature names `to`, so
a watcher of pending transactions cannot claim the item for itself.
"""

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from app.chain.handoffs import TYPES, registry_domain

CLAIM_TYPES = {"Claim": [{"name": "id", "type": "bytes32"}, {"name": "to", "type": "address"}]}


class InvalidClaimCode(ValueError):
    """A claim code that is not a secp256k1 private key (0x and 64 hex digits)."""


def new_claim_code() -> LocalAccount:
    """A fresh claim code; give `key` to the buyer and put `address` on chain with `markSold`."""
    account: LocalAccount = Account.create()
    return account


def claim_code(text: str) -> LocalAccount:
    """The claim code `text` as printed for the buyer (`0x` and 64 hex digits)."""
    digits = text.strip().removeprefix("0x")
    if len(digits) != 64 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise InvalidClaimCode(f"a claim code is 0x and 64 hex digits, got {text!r}")
    try:
        account: LocalAccount = Account.from_key("0x" + digits)
    except (ValueError, TypeError):  # eth_keys refuses zero and values >= the curve order
        raise InvalidClaimCode(
            "this is not a valid claim code (check it against the one you were given)"
        ) from None
    return account


def claim_typed_data(registry: Contract, item_id: bytes, to: str) -> dict[str, Any]:
    """The EIP-712 typed data a claim code signs to claim `item_id` for `to`."""
    return {
        "types": {"EIP712Domain": TYPES["EIP712Domain"], **CLAIM_TYPES},
        "primaryType": "Claim",
        "domain": registry_domain(registry),
        "message": {"id": "0x" + item_id.hex(), "to": to},
    }


def sign_claim(code: LocalAccount, registry: Contract, item_id: bytes, to: str) -> bytes:
    """`code`'s 65-byte signature claiming `item_id` for `to` on `registry`."""
    typed_data = claim_typed_data(registry, item_id, to)
    return bytes(code.sign_typed_data(full_message=typed_data).signature)
