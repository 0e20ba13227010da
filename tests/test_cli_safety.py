"""The CLI's guards against mistakes that cannot be undone."""

from pathlib import Path

import pytest
from test_cli import ITEM, _one_line_error
from web3 import Web3
from web3.contract import Contract

from app.chain.client import send
from app.chain.record_types import STATUS_NAMES
from app.commands import terminal


def test_irreversible_commands_ask_first_and_refuse_without_a_terminal(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand = consortium["brand"].account
    send(w3, brand, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://x"))
    status = contract.functions.statusOf(ITEM.item_id).call
    nonce = w3.eth.get_transaction_count(brand.address)
    destroy = ("items", "destroy", ITEM.gtin, ITEM.serial, "--account", "brand")
    said = f"Record item {ITEM.path} destroyed: for good, it can never be active again"
    _one_line_error(run(*destroy, ok=False), 2, said, "add --yes to do it without asking. Nothing was sent.")
    sell = ("items", "sell", ITEM.gtin, ITEM.serial, "--account", "brand")
    _one_line_error(
        run(*sell, ok=False), 2, f"Sell {ITEM.path} without a claim code: it is marked sold for good"
    )
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF")
    revoke = ("items", "revoke", ITEM.gtin, ITEM.serial, "--kind", "LAB_TEST", "--document", str(report))
    _one_line_error(
        run(*revoke, "--account", "certifier", ok=False),
        2,
        f"Revoke your LAB_TEST attestation of {ITEM.path} (report.pdf): shopper pages stop showing it",
    )
    assert w3.eth.get_transaction_count(brand.address) == nonce and STATUS_NAMES[status()] == "active"
    # A sale with a claim code is not asked about (its buyer can claim it): it goes to the registry.
    _one_line_error(run(*sell, "--claim-code", ok=False), 1, "AccessControlUnauthorizedAccount")

    monkeypatch.setattr(terminal, "interactive", lambda: True)
    declined = run(*destroy, input="n\n", ok=False)
    _one_line_error(declined, 1, said, "Continue? [y/N]: n", "not confirmed: nothing was sent")
    assert STATUS_NAMES[status()] == "active"
    run(*destroy, input="y\n")
    assert STATUS_NAMES[status()] == "destroyed"
