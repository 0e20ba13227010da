"""EIP-712 handoffs signed in Python are accepted by the registry on a real anvil."""

import time

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain.client import TransactionFailed, chain_time, send
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
