"""The CLI's guards against mistakes that cannot be undone: confirmations, one name per key,
passphrases asked again, large metadata, and `items show` to look before acting."""

import json
import re
from pathlib import Path

import pytest
from conftest import PASSPHRASE
from eth_account import Account
from eth_utils.crypto import keccak
from test_cli import ITEM, _one_line_error
from typer.testing import CliRunner
from web3 import Web3
from web3.contract import Contract

from app.chain.client import dev_account, send, utc_time
from app.chain.deploy import Deployment
from app.chain.record_types import STATUS_NAMES
from app.cli import cli
from app.commands import terminal
from app.commands.onchain_text import TEXT_LIMIT, TEXT_WARN
from app.demo.journey import hand_over, metadata_uri
from app.gs1.keys import LogisticUnit, SerialisedItem


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a member typed the input at a terminal (CliRunner's stdin is not one)."""
    monkeypatch.setattr(terminal, "interactive", lambda: True)


def test_irreversible_commands_ask_first_and_refuse_without_a_terminal(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand, retailer = consortium["brand"].account, consortium["retailer"].account
    run("accounts", "import", "retailer", input=retailer.key.hex() + "\n")
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF")
    send(w3, brand, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://x"))
    lab_test = b"LAB_TEST".ljust(32, b"\0")
    send(
        w3,
        consortium["certifier"].account,
        contract.functions.attest(ITEM.item_id, lab_test, keccak(b"%PDF"), ""),
    )
    hand_over(w3, contract, ITEM.item_id, brand, retailer)
    status = contract.functions.statusOf(ITEM.item_id).call
    nonce = w3.eth.get_transaction_count(retailer.address)
    destroy = ("items", "destroy", ITEM.gtin, ITEM.serial, "--account", "retailer")
    said = f"Record item {ITEM.path} destroyed: for good, it can never be active again"
    _one_line_error(run(*destroy, ok=False), 2, said, "add --yes to do it without asking. Nothing was sent.")
    sell = ("items", "sell", ITEM.gtin, ITEM.serial, "--account", "retailer")
    _one_line_error(
        run(*sell, ok=False), 2, f"Sell {ITEM.path} without a claim code: it is marked sold for good"
    )
    revoke = ("items", "revoke", ITEM.gtin, ITEM.serial, "--kind", "LAB_TEST", "--document", str(report))
    _one_line_error(
        run(*revoke, "--account", "certifier", ok=False),
        2,
        f"Revoke your LAB_TEST attestation of {ITEM.path} (report.pdf): shopper pages stop showing it",
    )
    assert w3.eth.get_transaction_count(retailer.address) == nonce and STATUS_NAMES[status()] == "active"
    # A sale with a claim code is not asked about (its buyer can claim it): it goes to the registry.
    brand_sells = ("items", "sell", ITEM.gtin, ITEM.serial, "--account", "brand")
    _one_line_error(run(*brand_sells, "--claim-code", ok=False), 1, "AccessControlUnauthorizedAccount")

    monkeypatch.setattr(terminal, "interactive", lambda: True)
    # What the registry would refuse is said before asking (it asked, then failed on chain).
    for refused in (brand_sells, ("items", "destroy", ITEM.gtin, ITEM.serial, "--account", "brand")):
        answer = run(*refused, input="y\n", ok=False)
        assert answer.exit_code == 1 and "Continue?" not in answer.output, answer.output
        assert "the registry refused the transaction" in answer.output
    not_attested = ("items", "revoke", ITEM.gtin, ITEM.serial, "--kind", "ORGANIC", "--document", str(report))
    unknown = run(*not_attested, "--account", "certifier", input="y\n", ok=False)
    assert unknown.exit_code == 1 and "Continue?" not in unknown.output
    declined = run(*destroy, input="n\n", ok=False)
    _one_line_error(declined, 1, said, "Continue? [y/N]: n", "not confirmed: nothing was sent")
    assert STATUS_NAMES[status()] == "active"
    run(*destroy, input="y\n")
    assert STATUS_NAMES[status()] == "destroyed"


def test_import_of_a_key_held_under_another_name_is_refused(tmp_path: Path) -> None:
    env = {"APE_DATA_FOLDER": str(tmp_path / "ape"), "ORIGINTRACE_PASSPHRASE": PASSPHRASE}
    carrier = dev_account(3)

    def import_as(name: str, key: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["accounts", "import", name], env=env, input=key + "\n")

    assert import_as("skybridge", carrier.key.hex()).exit_code == 0
    again = import_as("carrier", "0x" + carrier.key.hex().removeprefix("0x").upper())
    _one_line_error(again, 2, f"the key of {carrier.address} is held already, as account 'skybridge'")
    assert not (tmp_path / "ape" / "accounts" / "carrier.json").exists()
    listed = CliRunner().invoke(cli, ["accounts", "list"], env=env).output
    assert listed.count(carrier.address) == 1


def test_a_passphrase_typed_wrong_is_asked_again_and_one_from_the_environment_fails_at_once(  # type: ignore[no-untyped-def]
    consortium, w3: Web3, contract: Contract, deployment: Deployment, devnet, tmp_path: Path, at_a_terminal
) -> None:
    brand = consortium["brand"].account
    send(w3, brand, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://x"))
    env = {
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_RPC_URL": devnet.rpc_url,
        "ORIGINTRACE_REGISTRY": deployment.registry,
    }

    def report(command: str, typed: list[str], **more: str):  # type: ignore[no-untyped-def]
        args = ["items", command, ITEM.gtin, ITEM.serial, "--account", "brand"]
        return CliRunner().invoke(cli, args, env={**env, **more}, input="".join(f"{t}\n" for t in typed))

    lost = report("report-lost", ["", "wrong one", "wrong two", PASSPHRASE])
    assert lost.exit_code == 0, lost.output
    assert lost.output.count("wrong passphrase, try again") == 2
    assert lost.output.count("empty passphrase, try again") == 1  # was asked again without a word
    assert STATUS_NAMES[contract.functions.statusOf(ITEM.item_id).call()] == "lost"
    nonce = w3.eth.get_transaction_count(brand.address)
    three = report("found", ["a wrong one", "another", "a third"])
    _one_line_error(three, 2, "wrong passphrase for account 'brand'")
    assert three.output.count("Passphrase for brand") == 3
    from_env = report("found", [PASSPHRASE], ORIGINTRACE_PASSPHRASE="wrong passphrase")
    _one_line_error(
        from_env, 2, "wrong passphrase for account 'brand' (the one ORIGINTRACE_PASSPHRASE holds)"
    )
    assert "Passphrase for" not in from_env.output
    assert w3.eth.get_transaction_count(brand.address) == nonce


def test_a_new_passphrase_typed_empty_or_not_repeated_is_asked_again_saying_why(
    tmp_path: Path, at_a_terminal: None
) -> None:
    typed = ["", "first try", "other one", "chosen one", "chosen one"]
    created = CliRunner().invoke(
        cli,
        ["accounts", "create", "newcomer"],
        env={"APE_DATA_FOLDER": str(tmp_path / "ape")},
        input="".join(f"{t}\n" for t in typed),
    )
    assert created.exit_code == 0, created.output
    assert "empty passphrase, try again" in created.output
    assert "the two passphrases differ, try again" in created.output
    assert (tmp_path / "ape" / "accounts" / "newcomer.json").exists()


def test_large_metadata_is_warned_of_with_its_gas_and_refused_past_the_limit(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, tmp_path: Path
) -> None:
    """A data: URI goes on chain whole (calldata and log): a 200 KB file took 10.7 M gas unasked."""
    brand = consortium["brand"].account

    def register(serial: str, size: int, *flags: str, ok: bool = True):  # type: ignore[no-untyped-def]
        metadata = tmp_path / f"{serial}.json"
        metadata.write_text(json.dumps({"name": "Serum", "notes": "x" * size}))
        args = ("items", "register", ITEM.gtin, serial, "--metadata", str(metadata), "--account", "brand")
        return run(*args, *flags, ok=ok)

    small = register("S-1", 100)
    assert "warning" not in small.output
    nonce = w3.eth.get_transaction_count(brand.address)
    big = register("S-2", TEXT_LIMIT, ok=False)
    _one_line_error(big, 2, "the metadata of", "as a data: URI, is ", "over the 32 KiB limit", "--force")
    assert w3.eth.get_transaction_count(brand.address) == nonce
    medium = register("S-3", TEXT_WARN)
    assert re.search(r"warning: the metadata of .* is 5\.\d KiB, all of it on chain", medium.output)
    forced = register("S-2", TEXT_LIMIT, "--force")
    estimate = int(re.findall(r"about ([\d,]+) gas", forced.output)[0].replace(",", ""))
    _, uri = metadata_uri({"name": "Serum", "notes": "x" * TEXT_LIMIT})
    assert estimate >= 40 * len(uri)  # EIP-7623's floor for calldata
    (event,) = contract.events.ItemRegistered().get_logs(
        from_block=0, argument_filters={"itemId": SerialisedItem.parse(ITEM.gtin, "S-2").item_id}
    )
    used = w3.eth.get_transaction_receipt(event.transactionHash)["gasUsed"]
    assert estimate <= used <= estimate + 100_000, (estimate, used)  # the rest: the registration itself


def test_items_show_reads_the_record_from_the_node(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, contract: Contract, tmp_path: Path
) -> None:
    brand, certifier = consortium["brand"].account, consortium["certifier"].account
    retailer = dev_account(5)  # TianMall Global
    functions = contract.functions
    send(w3, brand, functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://x"))
    for document in (b"report", b"withdrawn"):
        send(w3, certifier, functions.attest(ITEM.item_id, b"LAB_TEST".ljust(32, b"\0"), document.ljust(32)))
    _, withdrawn = contract.events.AttestationRecorded().get_logs(from_block=0)
    send(w3, certifier, functions.revokeAttestation(withdrawn.args.attestationId))
    expires = w3.eth.get_block("latest")["timestamp"] + 3600
    send(w3, brand, functions.offerCustody(ITEM.item_id, retailer.address, expires))

    shown = run("items", "show", ITEM.gtin, ITEM.serial).output
    for line in (
        ITEM.path,
        f"  id            0x{ITEM.item_id.hex()}",
        "  kind          item",
        f"  brand         {brand.address} (Maison Lumière)",
        f"  custodian     {brand.address} (Maison Lumière)",
        "  status        offered",
        f"  offer         to {retailer.address} (TianMall Global), expires {utc_time(expires)}",
        "  claimable     no",
        "  attestations  1 (1 revoked)",
    ):
        assert line + "\n" in shown, shown

    send(w3, retailer, functions.acceptCustody(ITEM.item_id))
    code = Account.create()
    send(w3, retailer, functions.markSold(ITEM.item_id, code.address))
    unit = LogisticUnit.parse("106141412345678908")
    other = SerialisedItem.parse(ITEM.gtin, "CLI-0009")
    send(w3, brand, functions.registerItem(other.item_id, b"\1" * 32, "ipfs://x"))
    send(w3, brand, functions.createUnit(unit.sscc))
    send(w3, brand, functions.pack(unit.item_id, [other.item_id]))
    by_id = json.loads(run("items", "show", "0x" + ITEM.item_id.hex(), "--json").output)
    assert by_id["path"] is None and by_id["status"] == "sold" and by_id["claimable"] is True
    assert by_id["custodian"] == {"address": retailer.address, "name": "TianMall Global"}
    assert by_id["offer"] is None and (by_id["attestations"], by_id["revoked_attestations"]) == (1, 1)
    packed = json.loads(run("items", "show", other.path, "--json").output)
    assert packed["packed_in"] == "0x" + unit.item_id.hex() and packed["claimable"] is False
    pallet = json.loads(run("items", "show", unit.path, "--json").output)
    assert pallet["kind"] == "unit" and pallet["brand"] is None
    assert pallet["custodian"]["name"] == "Maison Lumière"

    unknown = SerialisedItem.parse(ITEM.gtin, "NOPE")
    _one_line_error(
        run("items", "show", unknown.path, ok=False), 2, f"no record has the id 0x{unknown.item_id.hex()}"
    )
    _one_line_error(run("items", "show", "0x1234", ok=False), 2, "'0x1234' is not a record id (0x and 64")


def test_a_mixed_case_address_must_carry_its_checksum(run, consortium, w3: Web3) -> None:  # type: ignore[no-untyped-def]
    """A letter's case mistyped in an address copied from a wallet was taken: the item would be
    offered to an address nobody holds (or a seat proposed for it)."""
    carrier = consortium["carrier"].account.address
    letter = next(i for i, c in enumerate(carrier) if i > 1 and c.isalpha())
    typo = carrier[:letter] + carrier[letter].swapcase() + carrier[letter + 1 :]  # one letter's case
    assert typo != carrier and typo.lower() == carrier.lower() and not Web3.is_checksum_address(typo)
    nonce = w3.eth.get_transaction_count(consortium["brand"].account.address)
    for command in (
        ("custody", "offer", ITEM.gtin, ITEM.serial, "--to", typo, "--account", "brand"),
        ("members", "propose", "admit", typo, "--name", "Typo", "--account", "admin"),
    ):
        _one_line_error(run(*command, ok=False), 2, f"{typo} fails its EIP-55 checksum")
    assert w3.eth.get_transaction_count(consortium["brand"].account.address) == nonce
    offered = run(
        "custody", "offer", ITEM.gtin, ITEM.serial, "--to", carrier.lower(), "--account", "brand", ok=False
    )
    assert "checksum" not in offered.output  # lower case carries no checksum: taken as it is


def test_a_logistic_unit_is_refused_where_the_registry_takes_items_and_lots(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, tmp_path: Path
) -> None:
    """`items attest /00/...` was sent, reverted with a bare RegistryInvalidKind, its gas spent,
    though the help offered logistic units."""
    unit = LogisticUnit.parse("109506000000000993").path
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF")
    nonce = w3.eth.get_transaction_count(consortium["certifier"].account.address)
    attest = run(
        "items",
        "attest",
        unit,
        "--kind",
        "LAB_TEST",
        "--document",
        str(report),
        "--account",
        "certifier",
        ok=False,
    )
    _one_line_error(
        attest, 2, f"{unit} names a logistic unit, not an item or lot (name a record packed in the unit)"
    )
    for command in ("recall", "report-lost", "found", "destroy"):
        yes = ("--yes",) if command in ("recall", "destroy") else ()
        refused = run("items", command, unit, "--account", "brand", *yes, ok=False)
        _one_line_error(refused, 2, f"{unit} names a logistic unit, not an item or lot")
    assert w3.eth.get_transaction_count(consortium["certifier"].account.address) == nonce
    for command in ("attest", "recall", "destroy"):
        helped = run("items", command, "--help")
        assert "/00/<sscc>" not in helped.output and "item or lot" in helped.output
    assert "/00/<sscc>" in run("custody", "offer", "--help").output  # a unit moves like the rest


def test_input_shoppers_could_not_read_is_refused_before_it_goes_on_chain_for_good(  # type: ignore[no-untyped-def]
    run, consortium, w3: Web3, tmp_path: Path
) -> None:
    """A metadata file holding `[1,2]` was registered (its page shows no product data, for good);
    an attestation's `--uri notaurl` was recorded, though pages link http(s) addresses only."""
    brand = consortium["brand"].account.address
    nonce = w3.eth.get_transaction_count(brand)
    for text, kind in (("[1, 2]", "array"), ('"serum"', "str"), ("42", "int")):
        metadata = tmp_path / "metadata.json"
        metadata.write_text(text)
        refused = run(
            "items",
            "register",
            ITEM.gtin,
            ITEM.serial,
            "--metadata",
            str(metadata),
            "--account",
            "brand",
            ok=False,
        )
        assert refused.exit_code == 2 and f"holds a JSON {kind}: product data is one object" in refused.output
    assert w3.eth.get_transaction_count(brand) == nonce
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF")
    evidence = ("--kind", "LAB_TEST", "--document", str(report), "--account", "certifier")
    for uri in ("notaurl", "ftp://lab.example/r", "javascript:alert(1)", "https://"):
        bad = run("items", "attest", ITEM.gtin, ITEM.serial, *evidence, "--uri", uri, ok=False)
        _one_line_error(bad, 2, f"--uri {uri!r}: shopper pages link an http(s):// address only")
