"""`origintrace lots` and `origintrace units`: Merkle-anchored lots and logistic units (SSCC).

    origintrace lots anchor --manifest items.csv --account brand
    origintrace lots split /01/09506000134352/10/LOT-A --manifest part.csv --lot LOT-A1 --account warehouse
    origintrace units create 106141412345678908 --account carrier
    origintrace units pack 106141412345678908 /01/09506000134352/10/LOT-A --account carrier
    origintrace units move 106141412345678908 --to 0xRECEIVER --account carrier
    origintrace units accept 106141412345678908 --account customs
The manifest is CSV with a header: gtin, lot, serial, metadata_hash (0x + 64 hex digits).
"""

import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from eth_utils.crypto import keccak
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app.chain.client import send
from app.chain.merkle import LotTree
from app.commands.context import (
    AccountOption,
    ReceiverOption,
    RegistryOption,
    RpcOption,
    clear_errors,
    fail,
    hours_from_now,
    open_chain,
    parse_address,
    parse_bytes32,
    record_id,
    report_tx,
    signer,
    transact,
)
from app.gs1.digital_link import KeyKind, parse_path
from app.gs1.keys import InvalidKey, LogisticUnit, Lot, SerialisedItem, normalise_gtin

lots = typer.Typer(
    help="Lots anchored by a Merkle root: anchor from a manifest, split.", no_args_is_help=True
)
units = typer.Typer(help="Logistic units (SSCC): create, pack, unpack, move, accept.", no_args_is_help=True)
ManifestOption = Annotated[
    Path, typer.Option(exists=True, dir_okay=False, help="CSV: gtin,lot,serial,metadata_hash")
]
UriOption = Annotated[
    str, typer.Option(help="Where the lot's manifest is published (ipfs://..., https://...)")
]
Sscc = Annotated[str, typer.Argument(help="The unit's 18-digit SSCC")]


@dataclass
class LotManifest:
    gtin: str
    lot: str
    entries: list[tuple[bytes, bytes]]

    @property
    def lot_id(self) -> bytes:
        with clear_errors():
            return Lot.parse(self.gtin, self.lot).item_id

    @property
    def manifest_hash(self) -> bytes:
        """keccak256 of the lot's sorted (item id, metadata hash) pairs: what the manifest commits to."""
        return keccak(b"".join(item + meta for item, meta in sorted(self.entries)))


def read_manifest(path: Path) -> list[LotManifest]:
    """The manifest's lots, each with its (item id, metadata hash) entries; errors name the line."""
    grouped: dict[tuple[str, str], list[tuple[bytes, bytes]]] = defaultdict(list)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"gtin", "lot", "serial", "metadata_hash"} - set(reader.fieldnames or [])
        if missing:
            fail(f"{path}: the header lacks {', '.join(sorted(missing))}", code=2)
        for line, row in enumerate(reader, start=2):
            try:
                gtin = normalise_gtin(row["gtin"])
                item = SerialisedItem.parse(gtin, row["serial"])
            except InvalidKey as exc:
                fail(f"{path}:{line}: {exc}", code=2)
            grouped[(gtin, row["lot"])].append(
                (item.item_id, parse_bytes32(row["metadata_hash"], f"{path}:{line}"))
            )
    if not grouped:
        fail(f"{path} lists no items", code=2)
    return [LotManifest(gtin, lot, entries) for (gtin, lot), entries in grouped.items()]


def _tree(lot: LotManifest) -> LotTree:
    try:
        return LotTree.build(lot.entries)
    except ValueError as exc:
        fail(f"lot {lot.lot} of {lot.gtin}: {exc}", code=2)


@lots.command()
def anchor(
    manifest: ManifestOption,
    account: AccountOption,
    rpc: RpcOption,
    uri: UriOption = "",
    registry: RegistryOption = None,
) -> None:
    """Anchor every lot of a manifest: one transaction per lot, whatever its size."""
    lots_to_anchor = read_manifest(manifest)
    total = sum(len(lot.entries) for lot in lots_to_anchor)
    with clear_errors():
        chain = open_chain(rpc, registry)
        brand = signer(account)
        started = time.monotonic()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task("anchoring items", total=total)
            for lot in lots_to_anchor:
                tree = _tree(lot)
                functions = chain.registry.functions
                call = functions.anchorLot(lot.lot_id, tree.root, len(lot.entries), lot.manifest_hash, uri)
                receipt = send(chain.w3, brand, call)
                progress.advance(task, len(lot.entries))
                what = (
                    f"anchored {lot.gtin} lot {lot.lot}: {len(lot.entries):,} items, root 0x{tree.root.hex()}"
                )
                report_tx(what, receipt)
    rate = total / max(time.monotonic() - started, 1e-9)
    typer.echo(f"{len(lots_to_anchor)} lots, {total:,} items anchored ({rate:,.0f} items/s)")


@lots.command()
def split(
    parent: Annotated[str, typer.Argument(help="Digital Link path of the parent lot, /01/<gtin>/10/<lot>")],
    manifest: ManifestOption,
    lot: Annotated[str, typer.Option(help="Lot number of the new sub-lot")],
    account: AccountOption,
    rpc: RpcOption,
    uri: UriOption = "",
    registry: RegistryOption = None,
) -> None:
    """Split the items of a manifest off a lot you hold into a new sub-lot."""
    with clear_errors():
        link = parse_path(parent)
    if link.kind != KeyKind.LOT or link.gtin is None:
        fail(f"{parent} is not a lot path (/01/<gtin>/10/<lot>)", code=2)
    entries = [e for part in read_manifest(manifest) for e in part.entries]
    sub = LotManifest(link.gtin, lot, entries)
    tree = _tree(sub)
    with clear_errors():
        chain = open_chain(rpc, registry)
        call = chain.registry.functions.splitLot(
            record_id(link), sub.lot_id, tree.root, len(entries), sub.manifest_hash, uri
        )
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"split {len(entries):,} items off {link.path} into lot {lot}", receipt)


def _unit_id(sscc: str) -> bytes:
    with clear_errors():
        return LogisticUnit.parse(sscc).item_id


def _contents(paths: list[str]) -> list[bytes]:
    ids = []
    for path in paths:
        with clear_errors():
            link = parse_path(path)
        if link.kind == KeyKind.PRODUCT:
            fail(f"{path} names a product class, not an item, lot or unit", code=2)
        ids.append(record_id(link))
    return ids


Contents = Annotated[list[str], typer.Argument(help="Digital Link paths of items, lots or units")]


@units.command()
def create(sscc: Sscc, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Create an empty logistic unit that you hold."""
    unit = _unit_id(sscc)
    transact(rpc, registry, account, lambda c: c.registry.functions.createUnit(unit), f"created unit {sscc}")


@units.command()
def pack(
    sscc: Sscc, contents: Contents, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Pack items, lots or units you hold into a unit you hold."""
    unit, ids = _unit_id(sscc), _contents(contents)
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.pack(unit, ids),
        f"packed {len(ids)} into {sscc}",
    )


@units.command()
def unpack(
    sscc: Sscc, contents: Contents, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Take items, lots or units out of a unit you hold."""
    unit, ids = _unit_id(sscc), _contents(contents)
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.unpack(unit, ids),
        f"unpacked {len(ids)} from {sscc}",
    )


@units.command()
def move(
    sscc: Sscc,
    to: ReceiverOption,
    account: AccountOption,
    rpc: RpcOption,
    hours: float = 24,
    registry: RegistryOption = None,
) -> None:
    """Offer a unit, with everything inside it, to another member (one transaction)."""
    unit, receiver = _unit_id(sscc), parse_address(to, "--to")
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.offerCustody(unit, receiver, hours_from_now(c, hours)),
        f"offered unit {sscc} to {receiver}",
    )


@units.command()
def accept(sscc: Sscc, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Accept a unit offered to you; everything inside it moves with it."""
    unit = _unit_id(sscc)
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.acceptCustody(unit),
        f"took custody of unit {sscc}",
    )
