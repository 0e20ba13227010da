"""The `origintrace` CLI against a real anvil: accounts, items, custody, qr, and its errors."""

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import zxingcpp
from conftest import PASSPHRASE
from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from PIL import Image
from typer.testing import CliRunner
from web3 import Web3
from web3.contract import Contract

from app.chain.artifacts import artifact
from app.chain.client import describe_revert, dev_account, registry, send, utc_time
from app.chain.deploy import Deployment, write_manifest
from app.chain.devnet import free_port
from app.chain.record_types import STATUS_NAMES
from app.chain.roles import role_id
from app.cli import cli
from app.gs1.keys import LogisticUnit, SerialisedItem

ITEM = SerialisedItem.parse("09506000134352", "CLI-0001")
CLI = Path(sys.executable).parent / "origintrace"


def test_accounts_create_and_list_share_ape_keystores(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = run("accounts", "create", "alice")
    address = created.output.split()[2]
    assert Web3.is_checksum_address(address)
    keystore = json.loads((tmp_path / "ape" / "accounts" / "alice.json").read_text())
    assert keystore["crypto"]["kdf"] in ("scrypt", "pbkdf2")
    assert "alice" in run("accounts", "list").output and address in run("accounts", "list").output
    again = run("accounts", "create", "alice", ok=False)
    assert again.exit_code == 2 and "already exists" in again.output


def test_import_rejects_a_malformed_key_without_echoing_it(run) -> None:  # type: ignore[no-untyped-def]
    secret = "0x" + "zz" * 32
    result = run("accounts", "import", "bob", input=secret + "\n", ok=False)
    assert result.exit_code == 2
    assert "64 hexadecimal characters" in result.output
    assert secret not in result.output


def test_item_journey_through_the_cli(run, consortium, contract: Contract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    metadata = tmp_path / "item.json"
    metadata.write_text(json.dumps({"name": "Test diamond", "origin": "Canada"}))
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF grading report")
    gtin, serial = ITEM.gtin, ITEM.serial
    run("items", "register", gtin, serial, "--metadata", str(metadata), "--account", "brand")
    run(
        "items",
        "attest",
        gtin,
        serial,
        "--kind",
        "GRADING_REPORT",
        "--document",
        str(report),
        "--account",
        "certifier",
    )
    carrier = consortium["carrier"].account.address
    run("custody", "offer", gtin, serial, "--to", carrier, "--account", "brand")
    run("custody", "cancel", gtin, serial, "--account", "brand")
    run("custody", "offer", gtin, serial, "--to", carrier, "--hours", "2", "--account", "brand")
    accepted = run("custody", "accept", gtin, serial, "--account", "carrier")
    assert "took custody" in accepted.output and "tx 0x" in accepted.output
    assert contract.functions.custodianOf(ITEM.item_id).call() == carrier

    refused = run("items", "sell", gtin, serial, "--account", "brand", "--yes", ok=False)
    assert refused.exit_code == 1
    assert "AccessControlUnauthorizedAccount" in refused.output
    assert "Traceback" not in refused.output


def test_a_certifier_revokes_and_a_holder_reports_lost_found_and_destroyed(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, tmp_path: Path
) -> None:
    """The registry could do these; the CLI could not."""
    brand = consortium["brand"].account
    send(w3, brand, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://x"))
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF lab test")
    evidence = ("--kind", "LAB_TEST", "--document", str(report), "--account", "certifier")
    run("items", "attest", ITEM.gtin, ITEM.serial, *evidence, "--uri", "https://lab.example/r/1.pdf")
    (recorded,) = contract.events.AttestationRecorded().get_logs(
        from_block=0, argument_filters={"subject": ITEM.item_id}
    )
    assert recorded.args.uri == "https://lab.example/r/1.pdf"  # where shoppers can read it
    assert contract.functions.attestationOf(recorded.args.attestationId).call()[1] is False
    revoked = run("items", "revoke", ITEM.gtin, ITEM.serial, *evidence, "--yes")  # for good: asks first
    assert f"revoked the LAB_TEST attestation of {ITEM.path}" in revoked.output
    assert contract.functions.attestationOf(recorded.args.attestationId).call()[1] is True
    again = run("items", "revoke", ITEM.gtin, ITEM.serial, *evidence, "--yes", ok=False)
    _one_line_error(again, 1, "AttestationNotRevocable(", "no attestation of this kind and document by this")
    # A kind outside the known ones stays on chain for good, shown to shoppers as written:
    # refused unless the certifier opts in.
    document = ("--document", str(report), "--account", "certifier")
    for kind, guess in (("LABTEST", "LAB_TEST"), ("lab_test", "LAB_TEST"), ("organik", "ORGANIC")):
        misspelt = run("items", "attest", ITEM.gtin, ITEM.serial, "--kind", kind, *document, ok=False)
        _one_line_error(misspelt, 2, f"--kind {kind!r} is not a known kind (GRADING_REPORT, ")
        _one_line_error(misspelt, 2, "CUSTOMS_CLEARANCE, ", f"; did you mean {guess}? Or pass --custom-kind")
    own = ("--kind", "FAIRMINED", *document)
    run("items", "attest", ITEM.gtin, ITEM.serial, *own, "--custom-kind")
    _one_line_error(
        run("items", "revoke", ITEM.gtin, ITEM.serial, *own, ok=False), 2, "; pass --custom-kind to record"
    )
    assert len(contract.events.AttestationRecorded().get_logs(from_block=0)) == 2

    status = contract.functions.statusOf(ITEM.item_id).call
    for command, after in (("report-lost", "lost"), ("found", "active"), ("destroy", "destroyed")):
        confirmed = ("--yes",) if command == "destroy" else ()  # for good: asks first
        result = run("items", command, ITEM.gtin, ITEM.serial, "--account", "brand", *confirmed)
        assert ITEM.path in result.output and STATUS_NAMES[status()] == after


def test_custom_errors_are_named_in_cli_messages(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.commands import context

    monkeypatch.setattr(context, "signer", cache(context.signer))  # one scrypt run per account
    brand, carrier = consortium["brand"].account, consortium["carrier"].account
    expiring = SerialisedItem.parse(ITEM.gtin, "CLI-0003")
    for key in (ITEM, expiring):
        send(w3, brand, contract.functions.registerItem(key.item_id, b"\1" * 32, "ipfs://x"))
    unit, box = LogisticUnit.parse("106141412345678908"), LogisticUnit.parse("106141412345678915")
    for each in (unit, box):
        send(w3, carrier, contract.functions.createUnit(each.sscc))
    result = run(
        "custody", "offer", ITEM.gtin, ITEM.serial, "--to", brand.address, "--account", "carrier", ok=False
    )
    assert result.exit_code == 1
    # The record the registry names by its id is named by its Digital Link path too.
    assert f"RegistryNotCustodian(itemId=0x{ITEM.item_id.hex()} ({ITEM.path}), " in result.output
    packed = run(
        "units", "pack", unit.sscc, box.path, ITEM.path, expiring.path,
        "--account", "carrier", "--registry", deployment.registry, ok=False,
    )  # fmt: skip
    account = carrier.address.lower()
    _one_line_error(
        packed, 1, f"RegistryNotCustodian(itemId=0x{ITEM.item_id.hex()} ({ITEM.path}), account={account})"
    )
    none_pending = run("custody", "accept", ITEM.gtin, ITEM.serial, "--account", "carrier", ok=False)
    _one_line_error(none_pending, 1, "status=active); no offer of it is pending")

    # Errors whose name does not say what to do carry the fix (a second offer of an item
    # whose first is pending said only `RegistryInvalidStatus(..., status=offered)`).
    run("custody", "offer", ITEM.gtin, ITEM.serial, "--to", carrier.address, "--account", "brand")
    # An offer that expires by the clock in 2 s, sent last: the chain's latest block stays
    # older than its expiry (a chain that mines on demand).
    expires = max(w3.eth.get_block("latest")["timestamp"] + 1, int(time.time())) + 2
    send(w3, brand, contract.functions.offerCustody(expiring.item_id, carrier.address, expires))
    again = run(
        "custody", "offer", ITEM.gtin, ITEM.serial, "--to", carrier.address, "--account", "brand", ok=False
    )
    assert "status=offered); an offer of it is pending" in again.output
    assert "`origintrace custody cancel`" in again.output
    unasked = run("custody", "accept", ITEM.gtin, ITEM.serial, "--account", "certifier", ok=False)
    assert (
        "RegistryNotOfferRecipient(" in unasked.output and "no offer of it to this account" in unasked.output
    )
    receiver_cancels = run("custody", "cancel", ITEM.gtin, ITEM.serial, "--account", "carrier", ok=False)
    _one_line_error(receiver_cancels, 1, "RegistryNotCustodian(", "only the holder can withdraw an offer")

    # Expired by the clock, not by the idle chain's latest block: refused, nothing sent (the
    # node's check on its latest block passed it, and the transaction was mined and reverted).
    time.sleep(max(0.0, expires + 1.05 - time.time()))
    assert w3.eth.get_block("latest")["timestamp"] < expires
    nonce = w3.eth.get_transaction_count(carrier.address)
    late = run("custody", "accept", expiring.path, "--account", "carrier", ok=False)
    _one_line_error(
        late, 2, f"the offer of {expiring.path} expired at {utc_time(expires)}: the holder offers"
    )
    assert w3.eth.get_transaction_count(carrier.address) == nonce


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("items", "sell", "09506000134353", "X", "--account", "brand"), "check digit"),
        (
            ("custody", "offer", "09506000134352", "X", "--to", "0x1234", "--account", "brand"),
            "not an Ethereum address",
        ),
        (("items", "sell", "09506000134352", "X", "--account", "nobody", "-y"), "no account named 'nobody'"),
    ],
)
def test_bad_input_gets_a_message_saying_what_to_fix(run, consortium, args, message) -> None:  # type: ignore[no-untyped-def]
    result = run(*args, ok=False)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("gln", "message"),
    [
        ("9506000000024", "Invalid GLN check digit for '9506000000024': Expected 2"),
        ("950600", "exactly 13 digits"),
    ],
)
def test_a_gln_with_a_wrong_check_digit_is_refused_before_any_proposal(  # type: ignore[no-untyped-def]
    run, contract: Contract, gln: str, message: str
) -> None:
    member = dev_account(7).address
    result = run(
        "members", "propose", "admit", member, "--name", "X", "--gln", gln, "--account", "nobody", ok=False
    )
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and not contract.functions.isMember(member).call()


def test_wrong_passphrase_is_reported(consortium, tmp_path: Path, devnet, deployment) -> None:  # type: ignore[no-untyped-def]
    report = ["items", "report-lost", ITEM.gtin, ITEM.serial, "--account", "brand"]
    result = CliRunner().invoke(
        cli,
        [*report, "--registry", deployment.registry],
        env={
            "APE_DATA_FOLDER": str(tmp_path / "ape"),
            "ORIGINTRACE_PASSPHRASE": "wrong passphrase",
            "ORIGINTRACE_RPC_URL": devnet.rpc_url,
        },
    )
    assert result.exit_code == 2
    assert "wrong passphrase for account 'brand'" in result.output


def test_unreachable_node_is_reported(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        cli,
        ["items", "sell", ITEM.gtin, ITEM.serial, "--account", "brand", "--rpc", "http://127.0.0.1:9"],
        env={"APE_DATA_FOLDER": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert "no Ethereum JSON-RPC node answers at http://127.0.0.1:9" in result.output


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_qr_writes_the_digital_link(run, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"label{suffix}"
    result = run("qr", "9506000134352", "DIA-0001", "--out", str(out), "--base-url", "https://gw.example/")
    assert "https://gw.example/01/09506000134352/21/DIA-0001" in result.output
    assert out.stat().st_size > 100


def test_governance_through_the_cli(run, w3: Web3, deployment, operator: LocalAccount, members) -> None:  # type: ignore[no-untyped-def]
    """Two admins, threshold 2: a member joins only when the second admin approves."""
    second_admin = dev_account(8)
    run("accounts", "import", "admin1", input=operator.key.hex() + "\n")
    run("accounts", "import", "admin2", input=second_admin.key.hex() + "\n")
    contract = registry(w3, deployment.registry)
    carrier = members["carrier"].account.address
    run("members", "propose", "admit", "0x" + "00" * 19 + "01", "--name", "Temp", "--account", "admin1")
    assert contract.functions.isMember("0x" + "00" * 19 + "01").call()  # threshold 1: executes at once
    run("members", "propose", "admit", second_admin.address, "--name", "Second admin", "--account", "admin1")
    lone = run("members", "propose", "threshold", "2", "--account", "admin1", ok=False)
    _one_line_error(lone, 2, "the consortium has 1 admin: a threshold above that")
    send(
        w3,
        operator,
        contract.functions.propose(
            contract.functions.grantRole(b"\0" * 32, second_admin.address)._encode_transaction_data()
        ),
    )
    temp = "0x" + "00" * 19 + "01"
    granted = run(
        "members", "propose", "grant", temp, "--role", "customs", "--role", "retailer", "--account", "admin1"
    )
    assert f"grant customs to {temp}: done" in granted.output
    assert f"grant retailer to {temp}: done" in granted.output
    assert contract.functions.hasRole(role_id("customs"), temp).call()
    revoked = run("members", "propose", "revoke", temp, "--role", "retailer", "--account", "admin1")
    assert f"revoke retailer from {temp}: done" in revoked.output
    assert not contract.functions.hasRole(role_id("retailer"), temp).call()
    assert contract.functions.hasRole(role_id("customs"), temp).call()
    # A proposal that changes nothing was sent and "done" (with k > 1, every admin asked to approve).
    sent = w3.eth.get_transaction_count(operator.address)  # admin1's
    again = run(
        "members",
        "propose",
        "grant",
        temp,
        "--role",
        "retailer",
        "--role",
        "customs",
        "--account",
        "admin1",
        ok=False,
    )
    _one_line_error(again, 2, f"{temp} has the role customs already: nothing to propose")
    gone = run("members", "propose", "revoke", temp, "--role", "retailer", "--account", "admin1", ok=False)
    _one_line_error(gone, 2, f"{temp} does not have the role retailer already")
    same = run("members", "propose", "threshold", "1", "--account", "admin1", ok=False)
    _one_line_error(same, 2, "the threshold is 1 already: nothing to propose")
    assert w3.eth.get_transaction_count(operator.address) == sent
    run("members", "propose", "threshold", "2", "--account", "admin1")
    assert contract.functions.threshold().call() == 2

    proposed = run(
        "members",
        "propose",
        "admit",
        carrier,
        "--name",
        "SkyBridge Logistics",
        "--role",
        "carrier",
        "--gln",
        "9506000000015",
        "--account",
        "admin1",
    )
    assert "1/2 approvals" in proposed.output and not contract.functions.isMember(carrier).call()
    numbers = [line.split("#")[1].split()[0] for line in proposed.output.splitlines() if "proposal #" in line]
    for number in numbers:  # each line says until when the other admins can approve
        _, _, expires_at = contract.functions.proposalState(int(number)).call()
        assert f"approve {number}` before {utc_time(expires_at)}" in proposed.output
    # An admin sees what each pending proposal does before approving (approvals were blind).
    pending = run("members", "proposals").output
    assert f"#{numbers[0]}  1/2 approvals, until " in pending
    assert f"admitMember(account={carrier}, name=SkyBridge Logistics, gln=9506000000015)" in pending
    assert f"grantRole(role=0x{role_id('carrier').hex()}, account={carrier})" in pending
    for number in numbers:
        approved = run("members", "approve", number, "--account", "admin2").output
        assert "done" in approved and f"#{number}: " in approved
    assert contract.functions.isMember(carrier).call()
    assert "no pending proposals" in run("members", "proposals").output
    impossible = run("members", "propose", "threshold", "3", "--account", "admin1", ok=False)
    assert (
        impossible.exit_code == 2
        and "has 2 admins: a threshold above that could never be met" in impossible.output
    )
    listed = run("members", "list").output
    assert "SkyBridge Logistics" in listed and "carrier" in listed and "9506000000015" in listed

    twice = run("members", "approve", numbers[0], "--account", "admin2", ok=False)
    assert twice.exit_code == 1 and "ConsortiumProposalExecuted" in twice.output
    unasked = run("members", "remove", carrier, "--account", "admin1", ok=False)
    _one_line_error(
        unasked,
        2,
        f"Remove SkyBridge Logistics ({carrier}) from the consortium, once the other admins approve:",
        "add --yes to do it without asking. Nothing was sent.",
    )
    assert "no pending proposals" in run("members", "proposals").output
    stranger = "0x" + "00" * 19 + "02"
    _one_line_error(
        run("members", "remove", stranger, "--account", "admin1", "--yes", ok=False), 2, "is not a member"
    )
    removal = run("members", "remove", carrier, "--account", "admin1", "--yes")
    assert "1/2 approvals" in removal.output and contract.functions.isMember(carrier).call()
    number = removal.output.split("proposal #")[1].split()[0]
    # The approval that completes a removal executes it: it asks first too.
    blind = run("members", "approve", number, "--account", "admin2", ok=False)
    _one_line_error(blind, 2, f"Remove SkyBridge Logistics ({carrier}) from the consortium, at once:")
    assert contract.functions.isMember(carrier).call()
    assert "done" in run("members", "approve", number, "--account", "admin2", "-y").output
    assert not contract.functions.isMember(carrier).call()


def test_sale_with_claim_code_then_claim_and_recall(run, consortium, w3: Web3, contract: Contract) -> None:  # type: ignore[no-untyped-def]
    retailer, shopper = dev_account(5), dev_account(6)
    operator_admits = (
        consortium  # brand, certifier and carrier keystores exist; add the retailer and a shopper
    )
    assert operator_admits
    run("accounts", "import", "retailer", input=retailer.key.hex() + "\n")
    run("accounts", "import", "shopper", input=shopper.key.hex() + "\n")
    brand = consortium["brand"].account
    sold_item, recalled_item = ITEM, SerialisedItem.parse(ITEM.gtin, "CLI-0002")
    for key in (sold_item, recalled_item):
        send(w3, brand, contract.functions.registerItem(key.item_id, b"\1" * 32, "ipfs://x"))
    expires = w3.eth.get_block("latest")["timestamp"] + 3600
    send(w3, brand, contract.functions.offerCustody(sold_item.item_id, retailer.address, expires))
    send(w3, retailer, contract.functions.acceptCustody(sold_item.item_id))

    sold = run("items", "sell", sold_item.gtin, sold_item.serial, "--claim-code", "--account", "retailer")
    code = sold.output.split("(shown once): ")[1].split()[0]
    assert contract.functions.statusOf(sold_item.item_id).call() == 3
    claim = ("items", "claim", sold_item.gtin, sold_item.serial, "--code")
    wrong = run(*claim, "0x" + "11" * 32, "--account", "shopper", ok=False)  # a key, not this item's
    _one_line_error(wrong, 1, "RegistryInvalidClaim", "the claim code does not match this item")
    malformed = run(*claim, "0x" + "00" * 32, "--account", "shopper", ok=False)
    assert malformed.exit_code == 2 and "--code: this is not a valid claim code" in malformed.output
    nobody = run(*claim, "0x" + "11" * 32, ok=False)
    assert nobody.exit_code == 2 and "give --account to send the claim, or --relay --to" in nobody.output
    short = run(*claim, "0x1234", "--account", "shopper", ok=False)
    assert (
        short.exit_code == 2 and "--code: a claim code is 0x and 64 hex digits, got '0x1234'" in short.output
    )
    # The retailer sends (and pays for) the claim the code signs for the shopper.
    claimed = run(*claim, code, "--account", "retailer", "--to", shopper.address)
    assert f"for {shopper.address}" in claimed.output
    assert contract.functions.statusOf(sold_item.item_id).call() == 5
    assert contract.functions.custodianOf(sold_item.item_id).call() == shopper.address
    again = run(*claim, code, "--account", "shopper", ok=False)
    assert again.exit_code == 1 and "status=claimed)" in again.output

    run("items", "recall", recalled_item.gtin, recalled_item.serial, "--account", "brand", "--yes")
    assert contract.functions.statusOf(recalled_item.item_id).call() == 4


def _cli(*args: str, **env: str):  # type: ignore[no-untyped-def]
    """`origintrace args` with ORIGINTRACE_* `env` (no chain); its result."""
    return CliRunner().invoke(cli, list(args), env=env)


def _one_line_error(result, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    """`result` is exit `code` with a message holding each of `needles`, not an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.mark.parametrize(
    "link",
    [
        "/00/109506000000000016",  # a pallet's SSCC
        "/01/09506000134352/10/L2026-11",  # a lot
        "/01/09506000134352/10/L2026-11/21/SK-0001",  # an item of it
        "https://another.example/01/9506000134352/10/L2026-11",  # as a QR code holds it (GTIN-13)
    ],
)
def test_qr_draws_lots_and_logistic_units_too(tmp_path: Path, link: str) -> None:
    """Only items had a CLI for their labels: pallets and lots needed the gateway's /qr.png."""
    out = tmp_path / "label.png"
    result = _cli("qr", link, "--out", str(out), "--base-url", "https://gw.example")
    assert result.exit_code == 0, result.output
    path = link.removeprefix("https://another.example").replace("/9506000134352/", "/09506000134352/")
    (decoded,) = zxingcpp.read_barcodes(Image.open(out))
    assert decoded.text == "https://gw.example" + path and result.output == f"{out}: {decoded.text}\n"


def test_qr_and_its_message_percent_encode_the_serial(tmp_path: Path) -> None:
    out = tmp_path / "label.svg"
    result = _cli("qr", ITEM.gtin, "Q?x=1&y", "--out", str(out), "--base-url", "https://gw.example")
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}: https://gw.example/01/09506000134352/21/Q%3Fx%3D1%26y\n"


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("qr", ITEM.gtin, ITEM.serial, "--out", "/nonexistent/dir/x.png"), "/nonexistent/dir/x.png"),
        (("deployments", "verification-bundle", "--out", "/proc/x"), "/proc/x"),
    ],
)
def test_an_unwritable_output_names_the_path_and_why(args: tuple[str, ...], path: str) -> None:
    _one_line_error(_cli(*args), 2, f"error: cannot write {path}")


def test_handoff_prepare_to_an_unwritable_or_existing_file_names_it(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, deployment: Deployment, tmp_path: Path
) -> None:
    send(w3, consortium["brand"].account, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "x"))
    carrier = consortium["carrier"].account.address
    prepare = ("handoff", "prepare", ITEM.gtin, ITEM.serial, "--to", carrier)
    prepare += ("--registry", deployment.registry)
    result = run(*prepare, "--out", "/nonexistent/h.json", ok=False)
    _one_line_error(result, 2, "error: cannot write /nonexistent/h.json: No such file or directory")
    # A file there may be a handoff half signed: kept unless --force.
    existing = tmp_path / "handoff.json"
    existing.write_text('{"typedData": {}, "signatures": {"0xabc": "0x01"}}')
    kept = run(*prepare, "--out", str(existing), ok=False)
    _one_line_error(kept, 2, f"error: {existing} exists", "--force to overwrite it")
    assert "0xabc" in existing.read_text()
    run(*prepare, "--out", str(existing), "--force")
    assert json.loads(existing.read_text())["signatures"] == {}


def test_commands_about_one_item_take_its_digital_link(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, deployment: Deployment, tmp_path: Path
) -> None:
    """The guide says a Digital Link names a record in any command: `items register`, `sell`,
    `claim` and `handoff prepare` took GTIN and serial only (a link: "Missing argument 'serial'")."""
    metadata = tmp_path / "item.json"
    metadata.write_text('{"name": "Test diamond"}')
    url = "https://gw.example" + ITEM.path
    registered = run("items", "register", ITEM.path, "--metadata", str(metadata), "--account", "brand")
    assert f"registered {ITEM.path} as 0x{ITEM.item_id.hex()}" in registered.output
    assert contract.functions.statusOf(ITEM.item_id).call() == 1
    carrier = consortium["carrier"].account.address
    out = tmp_path / "h.json"
    args = ("--to", carrier, "--out", str(out), "--registry", deployment.registry)
    prepared = run("handoff", "prepare", url, *args)
    assert f"hand {ITEM.path} from " in prepared.output
    deadline = json.loads(out.read_text())["typedData"]["message"]["deadline"]
    assert prepared.output.endswith(f"both must sign before {utc_time(int(deadline))}\n")
    assert re.search(r"before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", prepared.output)  # was cut to the minute
    assert json.loads(out.read_text())["typedData"]["message"]["id"] == "0x" + ITEM.item_id.hex()
    # Sent, and refused by the registry for what the account is, not for how it named the item.
    sold = run("items", "sell", url, "--account", "brand", "--yes", ok=False)
    _one_line_error(sold, 1, "AccessControlUnauthorizedAccount")
    claimed = run("items", "claim", ITEM.path, "--code", "0x" + "11" * 32, "--account", "brand", ok=False)
    _one_line_error(claimed, 1, f"RegistryInvalidStatus(itemId=0x{ITEM.item_id.hex()} ({ITEM.path})")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("items", "sell", "/01/09506000134352/10/L1"), "/01/09506000134352/10/L1 names a lot, not an item:"),
        (("items", "claim", "/00/106141412345678908", "--code", "0x1"), "names a logistic unit, not an item"),
        (("items", "register", "/01/09506000134352", "--metadata", "README.md"), "names a product class"),
        (("items", "sell", "09506000134352"), "give the serial after the GTIN, or the item's Digital Link"),
        (("units", "create", ITEM.path), f"{ITEM.path} names an item, not a logistic unit"),
        (("units", "accept", "09506000134352"), "SSCC '09506000134352' must be exactly 18 digits"),
        (
            ("handoff", "prepare", "/01/09506000134352", "--to", "0x1", "--out", "/nonexistent/h.json"),
            "names a product class, not an item,",
        ),
    ],
)
def test_a_digital_link_of_another_kind_is_refused_naming_what_the_command_takes(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    chain = ("--account", "brand", "--rpc", "http://127.0.0.1:9")
    _one_line_error(_cli(*args, *chain[2 if args[0] == "handoff" else 0 :]), 2, message)


def test_deployments_list_skips_a_file_that_is_not_a_manifest(tmp_path: Path, deployment: Deployment) -> None:
    write_manifest(deployment, tmp_path)
    (tmp_path / "bad.json").write_text('{"chainId": 1}')
    (tmp_path / "garbage.json").write_text("not json")
    result = _cli("deployments", "list", ORIGINTRACE_DEPLOYMENTS_DIR=str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'bad.json'} is not a deployment manifest: it has no 'contracts'" in result.output
    assert f"{tmp_path / 'garbage.json'} is not a deployment manifest: not JSON" in result.output
    assert f"chain {deployment.chain_id}" in result.output and deployment.registry in result.output


def test_index_names_a_manifest_that_is_not_one(tmp_path: Path, devnet) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "package.json"
    manifest.write_text('{"name": "origintrace"}')
    result = subprocess.run(
        [str(CLI), "index", "--manifest", str(manifest), "--rpc-url", devnet.rpc_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"error: {manifest} is not a deployment manifest: it has no 'contracts'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["index", "--database-url", "notadb://"], {}),
        (["index"], {"ORIGINTRACE_DATABASE_URL": "notadb://"}),
        (["serve", "--port", str(free_port())], {"ORIGINTRACE_DATABASE_URL": "notadb://"}),
    ],
)
def test_a_database_url_sqlalchemy_cannot_open_is_one_line(args: list[str], env: dict[str, str]) -> None:
    _one_line_error(_cli(*args, **env), 2, "error: cannot use the database URL 'notadb://'")


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--port", "99999"),
        ("serve", "--port", "0"),
        ("index", "--to-block", "-5"),
        ("index", "--max-range", "0"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(args: tuple[str, ...]) -> None:
    _one_line_error(_cli(*args), 2, "Invalid value for", args[1])


def test_each_bad_setting_is_one_line_naming_its_variable() -> None:
    result = _cli("deployments", "list", ORIGINTRACE_PORT="abc", ORIGINTRACE_LINK_TARGETS="{not json")
    _one_line_error(
        result, 2, "error: ORIGINTRACE_PORT: ", "integer", "error: ORIGINTRACE_LINK_TARGETS: ", "JSON"
    )
    assert len(result.output.splitlines()) == 2
    # 0 or less marked every fact confirmed, one block deep included
    _one_line_error(
        _cli("deployments", "list", ORIGINTRACE_CONFIRMATIONS="0"), 2, "error: ORIGINTRACE_CONFIRMATIONS: "
    )


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("https://x/{gtin}/{serial_number}", "unknown placeholder {serial_number}"),
        ("https://x/{gtin", "is malformed"),
        ("https://x/{}", "unknown placeholder {}"),
    ],
)
def test_a_link_template_that_cannot_be_filled_is_a_settings_error(template: str, why: str) -> None:
    targets = json.dumps({"gs1:recallStatus": template})
    result = _cli("deployments", "list", ORIGINTRACE_LINK_TARGETS=targets)
    _one_line_error(result, 2, "error: ORIGINTRACE_LINK_TARGETS: ", template, why, "{gtin}, {serial}, {lot}")


class _HtmlPage(BaseHTTPRequestHandler):
    """A web server that is not the gateway: every GET or POST gets a 502 HTML page."""

    def _page(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>bad gateway</html>")

    do_GET = do_POST = _page

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def html_server() -> Iterator[str]:
    """Base URL of a local `_HtmlPage` server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _signed_handoff(path: Path, deadline: int = 1) -> Path:
    parties = [Web3.to_checksum_address(f"0x{n:040x}") for n in (1, 2)]
    message = {"id": "0x" + "11" * 32, "from": parties[0], "to": parties[1], "deadline": deadline}
    path.write_text(
        json.dumps({"typedData": {"message": message}, "signatures": dict.fromkeys(parties, "0x01")})
    )
    return path


@pytest.mark.parametrize("command", ["verify", "handoff relay", "handoff status"])
def test_a_server_that_is_not_the_gateway_is_a_one_line_error(
    command: str, html_server: str, tmp_path: Path
) -> None:
    args = {
        "verify": ["verify", html_server + ITEM.path, "--rpc", "http://127.0.0.1:9"],
        "handoff relay": [
            "handoff",
            "relay",
            str(_signed_handoff(tmp_path / "h.json", deadline=int(time.time()) + 3600)),
            "--gateway",
            html_server,
        ],
        "handoff status": ["handoff", "status", "0x" + "ab" * 32, "--gateway", html_server],
    }[command]
    result = _cli(*args)
    _one_line_error(
        result, 1, f"error: {html_server}/", "did not answer with the gateway's JSON (it sent 502, text/html)"
    )


def test_revert_reasons_name_statuses_and_roles() -> None:
    abi = artifact("OriginRegistry").abi
    item, account = b"\x11" * 32, "0x" + "ab" * 20
    status = function_signature_to_4byte_selector("RegistryInvalidStatus(bytes32,uint8)")
    assert describe_revert(abi, status + encode(["bytes32", "uint8"], [item, 5])) == (
        f"RegistryInvalidStatus(itemId=0x{item.hex()}, status=claimed)"
    )
    role = function_signature_to_4byte_selector("AccessControlUnauthorizedAccount(address,bytes32)")
    assert describe_revert(abi, role + encode(["address", "bytes32"], [account, role_id("brand")])) == (
        f"AccessControlUnauthorizedAccount(account={account}, neededRole=brand)"
    )
    expired = function_signature_to_4byte_selector("ConsortiumProposalExpired(uint256,uint64)")
    assert describe_revert(abi, expired + encode(["uint256", "uint64"], [7, 1_796_000_000])) == (
        "ConsortiumProposalExpired(proposalId=7, expiresAt=1796000000 (2026-11-30 00:53:20 UTC))"
    )
    unknown_role = encode(["address", "bytes32"], [account, b"\x07" * 32])
    assert f"neededRole=0x{'07' * 32})" in describe_revert(abi, role + unknown_role)


def test_help_paragraphs_wrap_where_the_terminal_ends() -> None:
    """Help keeps a docstring's line breaks in Typer's rich mode; every command's help has none inside
    a paragraph, so a help screen never breaks a sentence in two."""
    import inspect

    import typer

    def helps(app: typer.Typer) -> list[str]:
        texts = [info.help or inspect.getdoc(info.callback) or "" for info in app.registered_commands]
        for group in app.registered_groups:
            assert group.typer_instance is not None
            texts += helps(group.typer_instance)
        return texts

    texts = helps(cli)
    assert len(texts) > 30 and all(texts)
    assert [t for t in texts if any("\n" in paragraph for paragraph in t.split("\n\n"))] == []
    claim = _cli("items", "claim", "--help").output
    paragraph = "The code signs the claim for the new owner and never goes on chain, so nobody watching"
    assert paragraph in " ".join(claim.split()), claim  # one paragraph, wrapped to the width


def test_up_on_a_database_of_another_chain_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """`origintrace up` ended in a traceback when its database held another chain's index."""
    from app.indexer.store import OtherDeployment

    def elsewhere(_settings: object) -> None:
        raise OtherDeployment(
            "the database indexes registry 0xR on chain 17000, not 0xS on chain 31337: check X"
        )

    monkeypatch.setattr("app.demo.up.up", elsewhere)
    _one_line_error(_cli("up"), 2, "on chain 17000", "set ORIGINTRACE_DATA_DIR")


def test_revoke_help_says_what_the_document_is_for() -> None:
    """It said "its keccak256 is recorded", as attest's does; revoke records nothing of it."""
    shown = " ".join(_cli("items", "revoke", "--help").output.split())
    assert "its keccak256, with --kind and your account, names the attestation to revoke" in shown
    assert "its keccak256 is recorded" not in shown


def test_help_shows_flags_without_a_value() -> None:
    """Typer's rich help labelled every flag `<bool>`: members read `--verbose <bool>` as an
    option taking a value, and `--verbose true` failed on `true`."""
    top = _cli("--help", COLUMNS="120").output
    assert "<bool>" not in top and re.search(r"-v, --verbose +Log debug detail", top), top
    sell = _cli("items", "sell", "--help", COLUMNS="120").output
    assert "<bool>" not in sell and re.search(r"--help +Show this message and exit", sell), sell


def test_a_member_without_a_manifest_is_told_to_name_the_registry(  # type: ignore[no-untyped-def]
    tmp_path: Path, deployment: Deployment, devnet
) -> None:
    """A member has no deployment manifest (that is a deployer's file): the CLI told them to deploy."""
    env = {"ORIGINTRACE_RPC_URL": devnet.rpc_url, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path / "none")}
    result = CliRunner().invoke(cli, ["members", "list"], env=env)
    assert result.exit_code == 2
    assert "error: which registry? pass --registry (or set ORIGINTRACE_REGISTRY)" in result.output
    result = CliRunner().invoke(
        cli, ["members", "list"], env={**env, "ORIGINTRACE_REGISTRY": deployment.registry}
    )
    assert result.exit_code == 0, result.output

    # A node failing mid-check is a node fault, not "not an OriginTrace registry".
    def unreachable(*_: object, **__: object) -> None:
        raise requests.ConnectionError("connection reset by peer")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("web3.contract.contract.ContractFunction.call", unreachable)
        faulty = CliRunner().invoke(
            cli, ["members", "list"], env={**env, "ORIGINTRACE_REGISTRY": deployment.registry}
        )
    assert "connection reset by peer; check --rpc" in faulty.output, faulty.output
    # Another contract (here the CREATE2 factory) answered "no members yet" and exit 0.
    factory = "0x4e59b44847b379578588920cA78FbF26c0B4956C"
    other = CliRunner().invoke(cli, ["members", "list"], env={**env, "ORIGINTRACE_REGISTRY": factory})
    assert other.exit_code == 2 and f"{factory} on chain 31337 is not an OriginTrace registry" in other.output


def test_handoff_prepare_refuses_what_the_registry_would_refuse_after_both_signed(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, deployment: Deployment, tmp_path: Path
) -> None:
    """A handoff to the holder itself, to a non-member or of a recalled item: refused before
    anyone signs (the last two were prepared and signed by both, then refused)."""
    brand = consortium["brand"].account
    send(w3, brand, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "x"))
    out = tmp_path / "h.json"
    outsider = Web3.to_checksum_address("0x" + "12" * 20)
    carrier = consortium["carrier"].account.address

    def prepare(to: str):  # type: ignore[no-untyped-def]
        args = ("--to", to, "--registry", deployment.registry, "--out", str(out))
        return run("handoff", "prepare", ITEM.gtin, ITEM.serial, *args, ok=False)

    _one_line_error(prepare(brand.address), 2, f"error: {brand.address} already holds {ITEM.path}")
    _one_line_error(prepare(outsider), 2, f"error: {outsider} is not a consortium member")
    case = LogisticUnit.parse("106141412345678908")
    send(w3, brand, contract.functions.createUnit(case.sscc))
    send(w3, brand, contract.functions.pack(case.item_id, [ITEM.item_id]))
    _one_line_error(prepare(carrier), 2, f"error: {ITEM.path} is packed in a logistic unit")
    send(w3, brand, contract.functions.unpack(case.item_id, [ITEM.item_id]))
    send(w3, brand, contract.functions.recall(ITEM.item_id))
    _one_line_error(
        prepare(carrier), 2, f"error: {ITEM.path} is recalled: only an active record is handed over"
    )
    unknown = SerialisedItem.parse(ITEM.gtin, "REV-9999")  # named as 0109506000134352 21REV-9999
    _one_line_error(
        run("handoff", "prepare", unknown.path, "--to", carrier, "--registry", deployment.registry, ok=False),
        2,
        f"error: no record {unknown.path} is registered on chain",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8000/01/09506000134352/21/CLI-0001", "/01/09506000134352/21/CLI-0001"]
)
def test_verify_without_a_whole_url_says_to_give_one(url: str) -> None:
    _one_line_error(_cli("verify", url, "--rpc", "http://127.0.0.1:9"), 2, f"error: {url} is not a URL")


def test_an_admin_pauses_at_once_and_the_admins_resume_and_set_a_gln(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, operator: LocalAccount, tmp_path: Path
) -> None:
    """The emergency brake needs one admin; while it holds, a member's write says how it ends."""
    run("accounts", "import", "admin1", input=operator.key.hex() + "\n")
    metadata = tmp_path / "product.json"
    metadata.write_text('{"name": "Serum"}')
    register = ("items", "register", ITEM.gtin, ITEM.serial, "--metadata", str(metadata))
    register += ("--account", "brand")
    assert "registry paused" in run("members", "pause", "--account", "admin1").output
    assert contract.functions.paused().call()
    _one_line_error(run("members", "pause", "--account", "admin1", ok=False), 2, "already paused")
    refused = run(*register, ok=False)
    _one_line_error(refused, 1, "EnforcedPause", "writes resume once they approve", "members propose unpause")

    assert "resume the registry: done" in run("members", "propose", "unpause", "--account", "admin1").output
    assert not contract.functions.paused().call()
    _one_line_error(run("members", "propose", "unpause", "--account", "admin1", ok=False), 2, "not paused")
    run(*register)

    carrier = consortium["carrier"].account.address
    bad = run("members", "propose", "gln", carrier, "9506000000016", "--account", "admin1", ok=False)
    _one_line_error(bad, 2, "check digit")
    run("members", "propose", "gln", carrier, "9506000000015", "--account", "admin1")
    assert contract.functions.memberGln(carrier).call() == "9506000000015"
    same = run("members", "propose", "gln", carrier, "9506000000015", "--account", "admin1", ok=False)
    _one_line_error(same, 2, f"{carrier}'s GLN is 9506000000015 already: nothing to propose")


def test_an_admin_hands_its_seat_over_through_the_cli(own_chain, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Offered, refused before the 2-day delay with when it can be taken, then taken over."""
    w3, contract, deployment, _ = own_chain
    successor = dev_account(9)
    env = {
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_PASSPHRASE": PASSPHRASE,
        "ORIGINTRACE_RPC_URL": w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        "ORIGINTRACE_REGISTRY": deployment.registry,
    }

    def cli_run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, input=input)

    for name, account in (("admin", dev_account(0)), ("successor", successor)):
        assert cli_run("accounts", "import", name, input=account.key.hex() + "\n").exit_code == 0
    _one_line_error(cli_run("members", "handover", "cancel", "--account", "admin"), 1, "no admin seat offer")
    started = cli_run("members", "handover", "start", successor.address, "--account", "admin")
    assert started.exit_code == 0, started.output
    assert f"members handover accept {dev_account(0).address}` from " in started.output
    early = cli_run("members", "handover", "accept", dev_account(0).address, "--account", "successor")
    _one_line_error(early, 1, "ConsortiumHandoverNotReady", "2 days after it was offered")

    w3.provider.make_request("evm_increaseTime", [2 * 24 * 3600])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    taken = cli_run("members", "handover", "accept", dev_account(0).address, "--account", "successor")
    assert taken.exit_code == 0 and "you are now an admin" in taken.output, taken.output
    admin_role = b"\0" * 32
    assert contract.functions.hasRole(admin_role, successor.address).call()
    assert not contract.functions.hasRole(admin_role, dev_account(0).address).call()


def test_admitting_a_member_again_is_refused_before_a_proposal_pointing_to_grant(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, operator: LocalAccount
) -> None:
    """It was proposed, and the registry's RegistryAlreadyMember came back as exit 1."""
    run("accounts", "import", "admin1", input=operator.key.hex() + "\n")
    carrier = consortium["carrier"].account.address
    name = contract.functions.memberName(carrier).call()
    nonce = w3.eth.get_transaction_count(operator.address)
    again = run("members", "propose", "admit", carrier, "--name", "X", "--account", "admin1", ok=False)
    _one_line_error(
        again, 2, f"error: {carrier} is a member already ({name}): `members propose grant` gives it roles"
    )
    assert w3.eth.get_transaction_count(operator.address) == nonce


def test_customs_records_its_clearance_and_nothing_else(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, tmp_path: Path
) -> None:
    """Customs had a role and nothing it could record but custody; now its clearance, as an attestation."""
    send(
        w3, consortium["brand"].account, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://x")
    )
    customs = consortium["customs"].account
    run("accounts", "import", "customs", input=customs.key.hex() + "\n")
    declaration = tmp_path / "declaration.pdf"
    declaration.write_bytes(b"%PDF import declaration")
    evidence = ("--document", str(declaration), "--account", "customs")
    cleared = run("items", "attest", ITEM.gtin, ITEM.serial, "--kind", "CUSTOMS_CLEARANCE", *evidence)
    assert f"attested CUSTOMS_CLEARANCE for {ITEM.path}" in cleared.output
    (recorded,) = contract.events.AttestationRecorded().get_logs(
        from_block=0, argument_filters={"subject": ITEM.item_id}
    )
    assert recorded.args.certifier == customs.address
    refused = run("items", "attest", ITEM.gtin, ITEM.serial, "--kind", "LAB_TEST", *evidence, ok=False)
    _one_line_error(refused, 1, "neededRole=certifier", "attests --kind CUSTOMS_CLEARANCE only")


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m app.cli ...` did nothing and exited 0: the module had no main guard."""
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "qr", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "--base-url" in result.stdout


@pytest.mark.parametrize(
    ("path", "what"),
    [("/01/09506000134352/10/L2026-11", "a lot"), ("/00/106141412345678908", "a logistic unit")],
)
def test_verify_of_a_lot_or_unit_says_what_it_takes(path: str, what: str) -> None:
    result = _cli("verify", "http://gw.example" + path, "--rpc", "http://127.0.0.1:9")
    _one_line_error(
        result,
        2,
        f"names {what}: verify takes the Digital Link of a serialised item (/01/<gtin>/21/<serial>)",
        "or of an item of a lot (/01/<gtin>/10/<lot>/21/<serial>)",
        "a lot or a logistic unit is verified through one of its items",
    )


def test_verify_against_a_node_of_another_chain_says_both_chains(
    devnet, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """It said `✗ your node serves chain 31337` (the gateway's chain, not the node's) and no verdict."""
    from app.commands import verify

    answers = {
        f"http://gw.example{ITEM.path}": {"id": "0x" + ITEM.item_id.hex()},
        f"http://gw.example/api/v1/items/0x{ITEM.item_id.hex()}/proof": {
            "registry": "0x" + "ab" * 20,
            "chain_id": 777,
        },
    }
    monkeypatch.setattr(verify, "_get_json", answers.__getitem__)
    result = _cli("verify", f"http://gw.example{ITEM.path}", "--rpc", devnet.rpc_url)
    _one_line_error(
        result,
        1,
        "✗ your node serves chain 31337; the gateway's facts are on chain 777\n",
        "NOT VERIFIED: the gateway's answer differs from the chain",
    )


def test_qr_takes_a_base_url_with_a_scheme_and_keeps_the_host_of_a_url(tmp_path: Path) -> None:
    out = str(tmp_path / "label.svg")
    for bad in ("127.0.0.1:8000", "ftp://gw.example", "https://", "https://gw.example/x", "http://gw:99999"):
        result = _cli("qr", ITEM.path, "--out", out, "--base-url", bad)
        _one_line_error(result, 2, f"--base-url {bad!r} must be http(s)://host[:port]")
    assert not Path(out).exists()
    url = "http://10.0.0.5:8000/01/9506000134352/21/CLI-0001"
    kept = _cli("qr", url, "--out", out, ORIGINTRACE_PUBLIC_URL="https://default.example")
    assert kept.output == f"{out}: http://10.0.0.5:8000{ITEM.path}\n", kept.output
    given = _cli("qr", url, "--out", out, "--base-url", "https://gw.example:8443/")
    assert given.output == f"{out}: https://gw.example:8443{ITEM.path}\n", given.output
    # A Digital Link names the record by itself: a serial after it was read as a GTIN's.
    twice = _cli("qr", ITEM.path, "S2", "--out", out)
    _one_line_error(twice, 2, f"'{ITEM.path}' is a Digital Link", "give no serial after it ('S2')")


def test_an_expired_handoff_is_not_signed_and_its_refused_relay_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff = _signed_handoff(tmp_path / "h.json")  # deadline 1 (1970)
    again = "expired at 1970-01-01 00:00:01 UTC; run `origintrace handoff prepare` again"
    _one_line_error(_cli("handoff", "sign", str(handoff), "--account", "brand"), 2, f"this handoff {again}")
    # Refused before it is sent, like `sign` (it went to the relayer, whose refusal exited 1).
    monkeypatch.setattr("app.commands.handoff.gateway_json", lambda *_, **__: pytest.fail("sent"))
    relayed = _cli("handoff", "relay", str(handoff), "--gateway", "http://gw.example")
    _one_line_error(relayed, 2, f"this handoff {again}")
    # The chain's clock may be ahead of this one: the relayer's refusal still says what to do.
    later = int(time.time()) + 3600
    refusal = {"error": "expired", "detail": f"the deadline {later} has passed (chain time 1796000000)"}
    monkeypatch.setattr("app.commands.handoff.gateway_json", lambda *_, **__: (400, refusal))
    relayed = _cli("handoff", "relay", str(_signed_handoff(handoff, later)), "--gateway", "http://gw.example")
    _one_line_error(
        relayed, 1, f"refused the handoff (400): the deadline {later} has passed", "; it expired at"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("handoff", "status", "0x1234"), "'0x1234' is not a request id: 0x and 64 hex digits"),
        (("handoff", "relayer", "--gateway", "notaurl"), "--gateway 'notaurl' must be http(s)://host[:port]"),
        (("handoff", "status", "0x" + "ab" * 32, "--gateway", "ftp://x"), "--gateway 'ftp://x' must be"),
        (
            ("lots", "push", "--gateway", "gw.example", "--rpc", "http://127.0.0.1:9"),
            "--gateway 'gw.example'",
        ),
    ],
)
def test_a_request_id_or_gateway_url_to_fix_is_refused_before_anything_is_sent(
    args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They went to the gateway and came back as exit 1: a 422 with its pattern, or "cannot reach"."""
    monkeypatch.setattr("app.commands.gateway.httpx.request", lambda *_, **__: pytest.fail("sent"))
    _one_line_error(_cli(*args), 2, message)


def test_a_handoff_file_relayed_to_a_gateway_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    handoff = _signed_handoff(tmp_path / "h.json", deadline=int(time.time()) + 3600)
    relayed = _cli("handoff", "relay", str(handoff), "--gateway", "notaurl")
    _one_line_error(relayed, 2, "--gateway 'notaurl' must be http(s)://host[:port], e.g. https://gw.example")
