"""`origintrace lots` and `units` against anvil: anchor from a CSV manifest, split, pack, move."""

import csv
import json
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from typer.testing import CliRunner
from web3 import Web3
from web3.contract import Contract

from app.chain.merkle import LotTree
from app.chain.record_types import STATUS_NAMES
from app.cli import cli
from app.demo.journey import Member, admit_members
from app.gs1.keys import LogisticUnit, SerialisedItem

GTIN = "09506000134352"
SSCC = "106141412345678908"


def write_manifest(path: Path, rows: list[tuple[str, str, str]]) -> list[tuple[bytes, bytes]]:
    entries = []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["gtin", "lot", "serial", "metadata_hash"])
        for gtin, lot, serial in rows:
            meta = keccak(text=f"metadata of {serial}")  # the item's data: the same in any lot
            writer.writerow([gtin, lot, serial, "0x" + meta.hex()])
            entries.append((SerialisedItem.parse(gtin, serial).item_id, meta))
    return entries


@pytest.fixture
def run(
    tmp_path: Path,
    devnet,
    deployment,
    w3: Web3,
    contract: Contract,
    operator: LocalAccount,
    members: dict[str, Member],
):  # type: ignore[no-untyped-def]
    admit_members(w3, contract, operator, members)
    env = {
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_PASSPHRASE": "records passphrase",
        "ORIGINTRACE_RPC_URL": devnet.rpc_url,
        "ORIGINTRACE_DATA_DIR": str(tmp_path / "data"),
    }
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, input: str | None = None):  # type: ignore[no-untyped-def]
        writes = args[0] in ("lots", "units", "custody", "items")
        extra = ["--registry", deployment.registry] if writes else []
        result = runner.invoke(cli, [*args, *extra], env=env, input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    for role in ("brand", "carrier"):
        invoke("accounts", "import", role, input=members[role].account.key.hex() + "\n")
    return invoke


def lot_id(lot: str) -> bytes:
    return keccak(text=f"01{GTIN}10{lot}")


def test_anchor_split_pack_and_move(
    run, tmp_path: Path, contract: Contract, members: dict[str, Member]
) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "items.csv"
    rows = [(GTIN, "LOT-A", f"A{i:05d}") for i in range(600)] + [
        (GTIN, "LOT-B", f"B{i:05d}") for i in range(400)
    ]
    entries = write_manifest(manifest, rows)
    anchored = run(
        "lots", "anchor", "--manifest", str(manifest), "--account", "brand", "--uri", "ipfs://manifest"
    )
    assert "2 lots, 1,000 items anchored" in anchored.output
    # Run again by another account, it said "0 lots now, 2 already on chain", as a resume would.
    other = run("lots", "anchor", "--manifest", str(manifest), "--account", "carrier", ok=False)
    brand, carrier = members["brand"].account.address, members["carrier"].account.address
    assert (
        other.exit_code != 0
        and f"lot LOT-A of {GTIN} was anchored by {brand}, not by {carrier}" in other.output
    )
    tree = LotTree.build(entries[:600])
    root, count, parent = contract.functions.lotOf(lot_id("LOT-A")).call()
    assert (root, count, parent) == (tree.root, 600, b"\0" * 32)
    item, meta = entries[123]
    assert contract.functions.verifyLotItem(lot_id("LOT-A"), item, meta, tree.proof(item, meta)).call()

    part = tmp_path / "part.csv"
    write_manifest(part, [(GTIN, "LOT-A1", serial) for _, _, serial in rows[:100]])
    forged = tmp_path / "forged.csv"
    forged.write_text(f"gtin,lot,serial,metadata_hash\n{GTIN},LOT-A2,A00150,0x{'09' * 32}\n")
    split = ("lots", "split", f"/01/{GTIN}/10/LOT-A", "--account", "brand", "--manifest")
    refused = run(*split, str(forged), ok=False)
    assert refused.exit_code == 2
    assert "lot LOT-A does not list serial A00150 with that metadata hash" in refused.output
    assert contract.functions.lotOf(lot_id("LOT-A2")).call()[1] == 0  # nothing anchored
    own_number = tmp_path / "own.csv"  # the parent's own number would overwrite its stored tree
    write_manifest(own_number, [(GTIN, "LOT-A", serial) for _, _, serial in rows[:10]])
    reused = run(*split, str(own_number), ok=False)
    assert (
        reused.exit_code == 2 and "sub-lot LOT-A must extend the parent's lot number LOT-A" in reused.output
    )
    elsewhere = tmp_path / "elsewhere.csv"  # the brand's next lot, not one under LOT-A
    write_manifest(elsewhere, [(GTIN, "LOT-B", serial) for _, _, serial in rows[:10]])
    squat = run(*split, str(elsewhere), ok=False)
    assert squat.exit_code == 2 and "sub-lot LOT-B must extend the parent's lot number LOT-A" in squat.output
    unknown = run(
        "lots", "split", f"/01/{GTIN}/10/NOLOT", "--account", "brand", "--manifest", str(part), ok=False
    )
    assert unknown.exit_code == 2 and "lot NOLOT of GTIN 09506000134352 is not anchored" in unknown.output
    run(
        "lots",
        "split",
        f"https://id.gs1.org/01/{GTIN}/10/LOT-A",
        "--account",
        "brand",
        "--manifest",
        str(part),
    )
    reused = run(*split, str(part), ok=False)
    assert reused.exit_code == 2 and "lot LOT-A1 is anchored already" in reused.output
    assert contract.functions.lotOf(lot_id("LOT-A")).call()[1] == 500
    assert contract.functions.lotOf(lot_id("LOT-A1")).call()[1:] == [100, lot_id("LOT-A")]
    again = tmp_path / "again.csv"  # A00050 left in LOT-A1; LOT-A's root still lists it
    write_manifest(again, [(GTIN, "LOT-A4", serial) for _, _, serial in rows[50:51]])
    twice = run(*split, str(again), ok=False)
    assert twice.exit_code == 2 and "serial A00050 left lot LOT-A before, in sub-lot LOT-A1" in twice.output
    rest = tmp_path / "rest.csv"
    write_manifest(rest, [(GTIN, "LOT-A3", serial) for _, _, serial in rows[100:600]])
    emptying = run(*split, str(rest), ok=False)
    assert emptying.exit_code == 2 and "lot LOT-A holds 500 items: a split takes fewer" in emptying.output

    run("units", "create", SSCC, "--account", "brand")
    run("units", "pack", SSCC, f"/01/{GTIN}/10/LOT-B", "--account", "brand")
    carrier = members["carrier"].account.address
    for hours in ("0", "-1", "1000000"):  # refused before sending: 0 was sent, reverted, paid for
        bad = run("units", "move", SSCC, "--to", carrier, "--account", "brand", "--hours", hours, ok=False)
        assert bad.exit_code == 2 and "--hours" in bad.output, bad.output
    assert (
        contract.functions.offerOf(LogisticUnit.parse(SSCC).item_id).call()[0] == "0x" + "00" * 20
    )  # none made
    # A unit by its Digital Link too (its SSCC was refused as "must be exactly 18 digits").
    moved = run("units", "move", f"/00/{SSCC}", "--to", carrier, "--account", "brand", "--hours", "2")
    assert f"to {carrier}, valid 2 h" in moved.output
    run("units", "accept", f"https://id.example/00/{SSCC}", "--account", "carrier")
    assert contract.functions.custodianOf(lot_id("LOT-B")).call() == carrier  # moved with its pallet
    run("units", "unpack", SSCC, f"/01/{GTIN}/10/LOT-B", "--account", "carrier")
    assert contract.functions.containerOf(lot_id("LOT-B")).call() == b"\0" * 32

    # Lots by their Digital Link in the record commands (they took only GTIN and serial: a lot's
    # handover or recall needed raw transactions).
    lot_b = f"/01/{GTIN}/10/LOT-B"
    run("custody", "offer", lot_b, "--to", members["brand"].account.address, "--account", "carrier")
    run("custody", "accept", f"https://id.example{lot_b}", "--account", "brand")
    assert contract.functions.custodianOf(lot_id("LOT-B")).call() == members["brand"].account.address
    recall = ("items", "recall", f"/01/{GTIN}/10/LOT-A", "--account", "brand")
    unasked = run(*recall, ok=False)  # for good: asked first, refused without a terminal
    assert unasked.exit_code == 2, unasked.output
    assert f"Recall lot /01/{GTIN}/10/LOT-A and every lot split off it: shopper pages" in unasked.output
    assert "add --yes" in unasked.output
    assert STATUS_NAMES[contract.functions.statusOf(lot_id("LOT-A")).call()] == "active"
    recalled = run(*recall, "--yes")
    assert f"recalled /01/{GTIN}/10/LOT-A" in recalled.output
    assert STATUS_NAMES[contract.functions.statusOf(lot_id("LOT-A")).call()] == "recalled"
    bare = run("items", "recall", GTIN, "--account", "brand", ok=False)
    assert bare.exit_code == 2 and "give the serial after the GTIN, or the Digital Link" in bare.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("gtin,lot,serial\n", "items.csv:1: the header must be gtin,lot,serial,metadata_hash"),
        (
            f"gtin,lot,serial,metadata_hash\n{GTIN[:-1]}3,L,S,0x{'00' * 32}\n",
            "items.csv:2: Invalid GTIN check digit",
        ),
        (f"gtin,lot,serial,metadata_hash\n{GTIN},L,S,0x12\n", "items.csv:2: metadata_hash must be 0x + 64"),
        (  # exited 1, unlike every other fault of a manifest
            f"gtin,lot,serial,metadata_hash\n{GTIN},L,S,0x{'01' * 32}\n{GTIN},L,S,0x{'02' * 32}\n",
            f"lot L of {GTIN}: serial 'S' is listed twice",
        ),
    ],
)
def test_a_bad_manifest_is_refused_with_its_line(run, tmp_path: Path, content: str, message: str) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "items.csv"
    manifest.write_text(content)
    result = run("lots", "anchor", "--manifest", str(manifest), "--account", "brand", ok=False)
    assert result.exit_code == 2
    assert message in result.output


def test_a_sub_lot_keeps_its_parents_product_data(run, tmp_path: Path, contract: Contract) -> None:  # type: ignore[no-untyped-def]
    """`lots split` without --uri anchored a sub-lot with no metadata: its page lost the product name."""
    shared = keccak(text="one product's data")
    manifest, part = tmp_path / "lot.csv", tmp_path / "part.csv"
    header = "gtin,lot,serial,metadata_hash\n"
    manifest.write_text(header + "".join(f"{GTIN},LOT-S,S{n},0x{shared.hex()}\n" for n in range(4)))
    part.write_text(header + f"{GTIN},LOT-S1,S0,0x{shared.hex()}\n")
    run("lots", "anchor", "--manifest", str(manifest), "--account", "brand", "--uri", "data:,{}")
    run("lots", "split", f"/01/{GTIN}/10/LOT-S", "--manifest", str(part), "--account", "brand")
    (sub,) = contract.events.LotAnchored().get_logs(
        from_block=0, argument_filters={"lotId": lot_id("LOT-S1")}
    )
    assert sub.args.metadataURI == "data:,{}" and sub.args.metadataHash == shared


def test_items_show_an_item_of_a_lot_as_its_lot_and_whether_the_lot_lists_it(
    run, tmp_path: Path, contract: Contract, members: dict[str, Member]
) -> None:  # type: ignore[no-untyped-def]
    manifest, part = tmp_path / "lot.csv", tmp_path / "part.csv"
    write_manifest(manifest, [(GTIN, "LOT-C", f"C{n}") for n in range(4)])
    write_manifest(part, [(GTIN, "LOT-C1", "C0")])
    run("lots", "anchor", "--manifest", str(manifest), "--account", "brand")
    run("lots", "split", f"/01/{GTIN}/10/LOT-C", "--manifest", str(part), "--account", "brand")
    run("units", "create", SSCC, "--account", "brand")
    run("units", "pack", SSCC, f"/01/{GTIN}/10/LOT-C", "--account", "brand")

    def show(path: str) -> dict:  # type: ignore[type-arg]
        return json.loads(run("items", "show", path, "--json").output)  # type: ignore[no-any-return]

    item = show(f"https://id.example/01/{GTIN}/10/LOT-C1/21/C0")
    assert item["kind"] == "lot" and item["path"] == f"/01/{GTIN}/10/LOT-C1"
    assert item["lot_item"] == {"serial": "C0", "lot": "LOT-C1", "listed": True, "unchecked_splits": []}
    # By its parent lot's label (the parent's root still lists it): shown in the lot it was split
    # into, with that lot's state; it showed the parent's, packed or recalled as that one is.
    assert show(f"/01/{GTIN}/10/LOT-C/21/C0") == item
    stayed = show(f"/01/{GTIN}/10/LOT-C/21/C2")
    assert stayed["lot_item"] == {"serial": "C2", "lot": "LOT-C", "listed": True, "unchecked_splits": []}
    assert item["parent_lots"] == ["0x" + lot_id("LOT-C").hex()] and item["status"] == "active"
    assert item["brand"] == {"address": members["brand"].account.address, "name": "Maison Lumière"}
    stray = show(f"/01/{GTIN}/10/LOT-C1/21/C3")
    assert stray["lot_item"]["listed"] is False
    parent = show(f"/01/{GTIN}/10/LOT-C")
    assert parent["packed_in"] == "0x" + LogisticUnit.parse(SSCC).item_id.hex() and parent["lot_item"] is None
    text = run("items", "show", f"/01/{GTIN}/10/LOT-C1/21/C0").output
    assert "  lot item      serial C0 of lot LOT-C1: listed (the registry accepts its Merkle proof)\n" in text
    sub_file = next((tmp_path / "data" / "lots").rglob(lot_id("LOT-C1").hex() + ".otl"))
    sub_file.unlink()  # without the sub-lot's file here, the item may have left with it: said so
    unsure = show(f"/01/{GTIN}/10/LOT-C/21/C0")
    assert unsure["lot_item"]["lot"] == "LOT-C" and unsure["lot_item"]["unchecked_splits"] == [
        "0x" + lot_id("LOT-C1").hex()
    ]
    said = run("items", "show", f"/01/{GTIN}/10/LOT-C/21/C0").output
    assert f"  split into    lot 0x{lot_id('LOT-C1').hex()}, whose file is not in this lot store" in said
