"""The relayer's fee rules (app/relayer/fees.py): reading back a signed transaction, when one is
priced below the market, and what its replacement pays."""

from typing import Any

import pytest
import rlp
from eth_account import Account

from app.relayer.fees import Market, unsigned

GWEI = 10**9
CALL = {"to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "value": 0, "gas": 90_000, "data": b"\x12\x34"}
DYNAMIC = {**CALL, "chainId": 31337, "nonce": 7, "maxFeePerGas": 3 * GWEI, "maxPriorityFeePerGas": GWEI}
LEGACY = {**CALL, "chainId": 1337, "nonce": 7, "gasPrice": 2 * GWEI}
ACCESS_LIST = [{"address": CALL["to"], "storageKeys": ["0x" + "01" * 32]}]


@pytest.mark.parametrize(
    "tx",
    [
        DYNAMIC,
        {**DYNAMIC, "accessList": ACCESS_LIST},
        {**LEGACY, "accessList": ACCESS_LIST},  # EIP-2930
        LEGACY,
        {name: value for name, value in LEGACY.items() if name != "to"},  # a contract creation
    ],
    ids=["eip1559", "eip1559-access-list", "eip2930", "legacy", "legacy-creation"],
)
def test_a_signed_transaction_reads_back_to_what_signs_the_same_bytes(tx: dict[str, Any]) -> None:
    account = Account.create()
    signed = account.sign_transaction(tx)
    fields = unsigned(bytes(signed.raw_transaction))
    assert fields["nonce"] == 7 and fields["chainId"] == tx["chainId"] and fields["gas"] == 90_000
    assert account.sign_transaction(fields).raw_transaction == signed.raw_transaction


def test_a_legacy_transaction_without_a_chain_id_is_not_signed_again() -> None:
    """Its v is 27 or 28: signing it again with EIP-155 would change what it is."""
    signed = Account.create().unsafe_sign_hash(b"\1" * 32)
    fields = [7, 2 * GWEI, 90_000, bytes.fromhex(str(CALL["to"])[2:]), 0, b"", signed.v, signed.r, signed.s]
    with pytest.raises(ValueError, match="EIP-155"):
        unsigned(rlp.encode(fields))


def test_a_transaction_that_cannot_pay_the_base_fee_is_refused() -> None:
    assert Market(base_fee=3 * GWEI + 1, tip=GWEI).refuses(DYNAMIC)
    assert not Market(base_fee=3 * GWEI, tip=GWEI).refuses(DYNAMIC)
    assert Market(base_fee=2 * GWEI + 1, tip=GWEI).refuses(LEGACY)


@pytest.mark.parametrize(
    ("market", "outbids"),
    [
        (Market(base_fee=GWEI, tip=GWEI), False),  # pays base fee plus the suggested tip
        (Market(base_fee=GWEI, tip=GWEI + 1), True),  # a higher tip suggested
        (Market(base_fee=2 * GWEI + 1, tip=GWEI), True),  # cannot pay the full tip on top
    ],
)
def test_a_transaction_paying_less_than_the_market_suggests_is_outbid(market: Market, outbids: bool) -> None:
    assert market.outbids(DYNAMIC) is outbids


def test_a_legacy_transaction_is_outbid_by_a_higher_gas_price() -> None:
    assert Market(base_fee=0, tip=2 * GWEI + 1).outbids(LEGACY)
    assert not Market(base_fee=0, tip=2 * GWEI).outbids(LEGACY)


def test_a_replacement_pays_an_eighth_more_of_each_fee_or_the_market_if_more() -> None:
    """Geth takes a replacement for 10 % more of both fees; anything less is refused as underpriced."""
    calm = Market(base_fee=GWEI // 10, tip=GWEI // 2).replacement(DYNAMIC)
    assert (calm["maxPriorityFeePerGas"], calm["maxFeePerGas"]) == (GWEI * 9 // 8, 3 * GWEI * 9 // 8)
    busy = Market(base_fee=10 * GWEI, tip=4 * GWEI).replacement(DYNAMIC)
    assert (busy["maxPriorityFeePerGas"], busy["maxFeePerGas"]) == (4 * GWEI, 24 * GWEI)
    assert {name: busy[name] for name in DYNAMIC if "Fee" not in name} == {
        name: value for name, value in DYNAMIC.items() if "Fee" not in name
    }
    assert Market(base_fee=0, tip=GWEI).replacement(LEGACY)["gasPrice"] == 2 * GWEI * 9 // 8
    assert Market(base_fee=0, tip=5 * GWEI).replacement(LEGACY)["gasPrice"] == 5 * GWEI
    assert Market(base_fee=0, tip=0).replacement({**LEGACY, "gasPrice": 0})["gasPrice"] == 1
