"""Fees of the relayer's transactions: what the chain asks now, and when and how a transaction
priced below it is replaced by one with higher fees and the same nonce."""

from dataclasses import dataclass
from typing import Any

import rlp
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

BUMP_EIGHTHS = 1
"""A replacement pays at least one eighth (12.5 %) more of each fee: geth and most nodes take a
transaction in place of a pooled one of the same nonce only for 10 % more of both fees."""


@dataclass(frozen=True)
class Market:
    """What the node asks of a transaction now."""

    base_fee: int
    """The latest block's base fee (0 on a chain without one)."""
    tip: int
    """The priority fee the node suggests (eth_maxPriorityFeePerGas); for legacy transactions
    the gas price it suggests (eth_gasPrice)."""

    @classmethod
    def read(cls, w3: Web3, legacy: bool) -> "Market":
        base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas") or 0)
        return cls(base_fee, int(w3.eth.gas_price if legacy else w3.eth.max_priority_fee))

    def refuses(self, tx: dict[str, Any]) -> bool:
        """`tx` cannot pay the base fee: it cannot be mined while that stays up (anvil drops it
        from its pool, geth sets it aside)."""
        return _max_fee(tx) < self.base_fee

    def outbids(self, tx: dict[str, Any]) -> bool:
        """The node suggests more than `tx` pays: it may wait behind better-paying transactions."""
        if "gasPrice" in tx:
            return int(tx["gasPrice"]) < max(self.tip, self.base_fee)
        tip, max_fee = int(tx["maxPriorityFeePerGas"]), int(tx["maxFeePerGas"])
        return tip < self.tip or max_fee < self.base_fee + self.tip

    def replacement(self, tx: dict[str, Any]) -> dict[str, Any]:
        """`tx` with each fee raised by an eighth, or to what the market asks if that is more
        (a max fee of twice the base fee plus the tip, as web3 sets it)."""
        if "gasPrice" in tx:
            return {**tx, "gasPrice": max(_bumped(int(tx["gasPrice"])), self.tip, self.base_fee)}
        tip = max(_bumped(int(tx["maxPriorityFeePerGas"])), self.tip)
        max_fee = max(_bumped(int(tx["maxFeePerGas"])), 2 * self.base_fee + tip)
        return {**tx, "maxPriorityFeePerGas": tip, "maxFeePerGas": max_fee}


def unsigned(raw_tx: bytes) -> dict[str, Any]:
    """The fields of the signed transaction `raw_tx`, without its signature, ready to sign again:
    a typed (EIP-2718) one, or a legacy one with EIP-155 replay protection."""
    if raw_tx[0] <= 0x7F:
        typed = dict(TypedTransaction.from_bytes(HexBytes(raw_tx)).as_dict())
        return {name: value for name, value in typed.items() if name not in ("v", "r", "s")}
    nonce, gas_price, gas, to, value, data, v, _, _ = rlp.decode(raw_tx)
    if int.from_bytes(v) < 35:
        raise ValueError("a legacy transaction without a chain id (EIP-155) is not signed again")
    fields: dict[str, Any] = {
        "nonce": int.from_bytes(nonce),
        "gasPrice": int.from_bytes(gas_price),
        "gas": int.from_bytes(gas),
        "value": int.from_bytes(value),
        "data": HexBytes(data),
        "chainId": (int.from_bytes(v) - 35) // 2,  # EIP-155
    }
    if to:  # none for a contract creation
        fields["to"] = Web3.to_checksum_address(to)
    return fields


def _max_fee(tx: dict[str, Any]) -> int:
    return int(tx["gasPrice"] if "gasPrice" in tx else tx["maxFeePerGas"])


def _bumped(fee: int) -> int:
    return fee + max(1, -(-fee * BUMP_EIGHTHS // 8))
