"""EIP-712 handoffs signed in Python are accepted by the registry on a real anvil."""

import threading
import time
from typing import Any

import pytest
from conftest import OwnChain
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain import client
from app.chain.client import TransactionFailed, TransactionPending, chain_time, send
from app.chain.handoffs import handoff_digest, handoff_typed_data, sign_handoff
from app.demo.journey import Member, admit_members

DEADLINE = 2**40


@pytest.fixture
def consortium(w3: Web3, contract: Contract, operator: LocalAccount, members: dict[str, Member]) -> Contract:
    admit_members(w3, contract, operator, members)
    return contract


def test_python_digests_equal_the_contract_views(consortium: Contract, brand: LocalAccount) -> None:
    item, receiver = keccak(text="item"), Web3.to_checksum_address("0x" + "11" * 20)
    single = handoff_typed_data(consortium, item, brand.address, receiver, DEADLINE)
    batch = handoff_typed_data(consortium, [item, item], brand.address, receiver, DEADLINE)
    assert (
        handoff_digest(single)
        == consortium.functions.handoffDigest(item, brand.address, receiver, DEADLINE).call()
    )
    view = consortium.functions.batchHandoffDigest([item, item], brand.address, receiver, DEADLINE)
    assert handoff_digest(batch) == view.call()


def test_relayed_handoff_moves_custody_once(
    w3: Web3, consortium: Contract, operator: LocalAccount, members: dict[str, Member]
) -> None:
    brand, carrier = members["brand"].account, members["carrier"].account
    item = keccak(text="relayed item")
    send(w3, brand, consortium.functions.registerItem(item, item, "ipfs://item"))
    typed = handoff_typed_data(consortium, item, brand.address, carrier.address, DEADLINE)
    call = consortium.functions.handoffSigned(
        item,
        brand.address,
        carrier.address,
        DEADLINE,
        sign_handoff(brand, typed),
        sign_handoff(carrier, typed),
    )
    send(w3, operator, call)  # the operator relays and pays the gas
    assert consortium.functions.custodianOf(item).call() == carrier.address
    assert consortium.functions.nonces(brand.address).call() == 1
    with pytest.raises(TransactionFailed, match=r"RegistryNotCustodian|HandoffInvalidSignature"):
        send(w3, operator, call)


def test_a_member_without_eth_is_told_to_fund_the_account(
    w3: Web3, consortium: Contract, operator: LocalAccount
) -> None:
    """The node refusing the transaction was a 100-line traceback in the CLI."""
    unfunded: LocalAccount = Account.create()
    admit_members(w3, consortium, operator, {"new": Member("New brand", "BRAND_ROLE", unfunded)})
    item = keccak(text="item of an unfunded brand")
    with pytest.raises(
        TransactionFailed, match=rf"from {unfunded.address}: .*[Ii]nsufficient funds.*fund the account"
    ):
        send(w3, unfunded, consortium.functions.registerItem(item, item, "ipfs://item"))


def test_an_offer_that_expires_before_its_acceptance_is_mined_names_the_error(
    w3: Web3, consortium: Contract, members: dict[str, Member]
) -> None:
    """Anvil mines only for transactions, so its latest block is as old as the last one: the
    acceptance passes its simulation there, then reverts in a block of the present. The failure
    named only the transaction hash; it now names the registry's error."""
    brand, carrier = members["brand"].account, members["carrier"].account
    item = keccak(text="offer about to expire")
    send(w3, brand, consortium.functions.registerItem(item, item, "ipfs://item"))
    expires = chain_time(w3) + 2
    send(w3, brand, consortium.functions.offerCustody(item, carrier.address, expires))
    time.sleep(max(0.0, expires + 1.2 - time.time()))
    assert w3.eth.get_block("latest")["timestamp"] < expires < chain_time(w3)  # the idle chain's clock lags
    with pytest.raises(TransactionFailed, match=r"reverted: RegistryOfferExpired\("):
        send(w3, carrier, consortium.functions.acceptCustody(item))


@pytest.fixture
def slow_chain(own_chain: OwnChain) -> tuple[Web3, Contract, LocalAccount]:
    """An anvil of its own that mines only when told (a chain with block times), with a brand."""
    w3, contract, _, members = own_chain
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    return w3, contract, members["brand"].account


def _pool_size(w3: Web3) -> int:
    return int(w3.provider.make_request("txpool_status", [])["result"]["pending"], 16)  # type: ignore[arg-type]


def test_two_commands_of_one_account_before_a_block_both_go_through(
    slow_chain: tuple[Web3, Contract, LocalAccount],
) -> None:
    """The nonce came from the last block: a second command before the next block reused the
    first one's and was refused ('replacement transaction underpriced')."""
    w3, contract, brand = slow_chain
    receipts: list[Any] = []
    threads = []
    for n, item in enumerate((keccak(text="first"), keccak(text="second"))):
        call = contract.functions.registerItem(item, item, "ipfs://item")
        threads.append(
            threading.Thread(target=lambda c=call: receipts.append(send(w3, brand, c)), daemon=True)
        )
        threads[-1].start()
        deadline = time.monotonic() + 10
        while _pool_size(w3) < n + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _pool_size(w3) == 2
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r["status"] for r in receipts) == [1, 1]


def test_a_transaction_not_mined_in_time_says_so_and_names_it(
    slow_chain: tuple[Web3, Contract, LocalAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a stalled chain a command ended in a TimeExhausted traceback after 120 s; run again,
    it sent the transaction a second time."""
    w3, contract, brand = slow_chain
    monkeypatch.setattr(client, "RECEIPT_TIMEOUT_S", 1)
    item = keccak(text="stalled")
    with pytest.raises(
        TransactionPending, match=r"transaction 0x[0-9a-f]{64} from .* is not mined after 1 s"
    ):
        send(w3, brand, contract.functions.registerItem(item, item, "ipfs://item"))
