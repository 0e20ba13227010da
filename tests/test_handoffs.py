"""EIP-712 handoffs signed in Python are accepted by the registry on a real anvil."""

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain.client import TransactionFailed, send
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
