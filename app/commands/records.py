"""`origintrace lots` and `origintrace units`: Merkle-anchored lots and logistic units (SSCC).

    origintrace lots anchor --manifest items.csv --account brand
    origintrace lots split /01/09506000134352/10/LOT-A --manifest part.csv --account warehouse
    origintrace lots push --gateway https://gw.example
    origintrace units create 106141412345678908 --account carrier
    origintrace units pack 106141412345678908 /01/09506000134352/10/LOT-A --account carrier
    origintrace units move 106141412345678908 --to 0xRECEIVER --account carrier
    origintrace units accept 106141412345678908 --account customs
Manifests are CSV (header gtin,lot,serial,metadata_hash) or the compact OTM form: see
app/scale/manifest.py.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app.chain.client import send
from app.commands.context import (
    UNIT_KINDS,
    AccountOption,
    Chain,
    OfferHoursOption,
    ReceiverOption,
    RegistryOption,
    RpcOption,
    accept_call,
    clear_errors,
    counted,
    fail,
    hours_from_now,
    named_link,
    open_chain,
    parse_address,
    record_id,
    registry_decoder,
    registry_logs,
    report_tx,
    signer,
    transact,
)
from app.commands.gateway import GatewayOption, gateway_json, gateway_url, reason
from app.commands.onchain_text import ForceOption, check_onchain_text
from app.core.config import Settings, lot_store
from app.gs1.digital_link import DigitalLink, KeyKind, parse_link
from app.gs1.keys import LogisticUnit
from app.scale.anchor import (
    LOTS_PER_TX,
    AnchorConflict,
    AnchorError,
    anchor_manifest,
    first_listed,
    first_unvouched,
    prepare,
)
from app.scale.manifest import LotBlock, ManifestError, count_items, read_manifest
from app.scale.store import SUFFIX, LotReader, lot_path, read_header

lots = typer.Typer(
    help="Lots anchored by a Merkle root: anchor from a manifest, split, push their files to a gateway.",
    no_args_is_help=True,
)
units = typer.Typer(help="Logistic units (SSCC): create, pack, unpack, move, accept.", no_args_is_help=True)
ManifestOption = Annotated[
    Path,
    typer.Option(
        exists=True, dir_okay=False, help="CSV (gtin,lot,serial,metadata_hash) or OTM binary manifest"
    ),
]
UriOption = Annotated[
    str,
    typer.Option(
        help="The lot's metadata URI (a data: URI of its product JSON, ipfs://..., https://...);"
        " a split's default: its parent's, when the items share the parent's product data"
    ),
]
Sscc = Annotated[
    str, typer.Argument(help="The unit's 18-digit SSCC, or its Digital Link (path or URL: /00/<sscc>)")
]


def chain_lot_store(chain: Chain) -> Path:
    """This machine's lot store of the chain's registry (where the gateway proves lot items from)."""
    return lot_store(Settings(), int(chain.w3.eth.chain_id), chain.registry.address)


@contextmanager
def _manifest_errors() -> Iterator[None]:
    """A manifest to fix (a fault in it, or a lot anchored already with another root) exits 2;
    a chain that cannot be used (transactions still pending) 1."""
    try:
        yield
    except (ManifestError, AnchorConflict) as exc:
        fail(str(exc), code=2)
    except AnchorError as exc:
        fail(str(exc))


@lots.command()
def anchor(
    manifest: ManifestOption,
    account: AccountOption,
    rpc: RpcOption,
    uri: UriOption = "",
    registry: RegistryOption = None,
    lots_per_tx: Annotated[
        int, typer.Option(min=1, help="Lots per transaction (the registry caps it)")
    ] = LOTS_PER_TX,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Threads building trees (default: all cores)")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Anchor every lot of a manifest (CSV or OTM), many lots per transaction; rerun to resume.

    Trees are built on all cores and stored for the gateway (ORIGINTRACE_DATA_DIR/lots), so it
    can prove any item. A rerun reuses stored trees and skips lots already on chain.
    """
    with clear_errors(), _manifest_errors():
        check_onchain_text(
            f"--uri (in each lot's event, up to {lots_per_tx} a transaction)", uri, force, lots_per_tx
        )
        total = count_items(manifest)
        chain = open_chain(rpc, registry)
        brand = signer(account)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} items/s"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task("building and anchoring", total=total, rate="-")

            def advance(items: int) -> None:
                progress.advance(task, items)
                speed = progress.tasks[0].speed
                progress.update(task, rate=f"{speed:,.0f}" if speed else "-")

            report = anchor_manifest(
                read_manifest(manifest),
                store=chain_lot_store(chain),
                w3=chain.w3,
                registry=chain.registry,
                brand=brand,
                uri=uri,
                lots_per_tx=lots_per_tx,
                workers=workers,
                on_items=advance,
            )
    for tx in report.transactions:
        typer.echo(f"tx {tx}")
    rate = report.items / max(report.seconds, 1e-9)
    typer.echo(
        f"{counted(report.lots, 'lot')}, {counted(report.items, 'item')} anchored: "
        f"{counted(report.anchored_lots, 'lot')} now, {report.skipped_lots:,} already on chain "
        f"({rate:,.0f} items/s, {report.gas_used:,} gas)"
    )


@lots.command()
def split(
    parent: Annotated[
        str, typer.Argument(help="The parent lot's Digital Link path (/01/<gtin>/10/<lot>) or URL")
    ],
    manifest: ManifestOption,
    account: AccountOption,
    rpc: RpcOption,
    uri: UriOption = "",
    registry: RegistryOption = None,
    force: ForceOption = False,
) -> None:
    """Split a sub-lot off a lot you hold: the manifest lists the sub-lot's items under its new lot number."""
    with clear_errors():
        link = parse_link(parent)
        check_onchain_text("--uri", uri, force)
    if link.kind != KeyKind.LOT or link.gtin is None:
        fail(f"{parent} is not a lot path (/01/<gtin>/10/<lot>)", code=2)
    with clear_errors(), _manifest_errors():
        blocks = list(read_manifest(manifest))
        if len(blocks) != 1 or blocks[0].gtin != link.gtin:
            fail(f"{manifest} must list exactly one lot (the sub-lot) of GTIN {link.gtin}", code=2)
        sub = blocks[0]
        chain = open_chain(rpc, registry)
        store = chain_lot_store(chain)
        _check_split(chain, store, link, sub, manifest)
        ready = prepare(sub, store)
        uri = uri or _parent_uri(chain, record_id(link), ready.metadata_hash)
        call = chain.registry.functions.splitLot(
            link.gtin, link.lot, sub.lot, ready.root, ready.count, ready.metadata_hash, uri
        )
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"split {counted(ready.count, 'item')} off {link.path} into lot {sub.lot}", receipt)


@lots.command()
def push(
    rpc: RpcOption,
    gateway: GatewayOption = None,
    registry: RegistryOption = None,
    lot: Annotated[
        list[str] | None,
        typer.Option(help="Only this lot (/01/<gtin>/10/<lot>); repeatable. Default: every lot file here"),
    ] = None,
) -> None:
    """Send the gateway the lot files this machine's `lots anchor` and `lots split` wrote, so it
    can prove their items: for a gateway on another machine. It takes a file only when it is the
    tree the chain anchored (anyone may send one); one it holds already is left as it is."""
    items_url = gateway_url(gateway, "/api/v1/items")  # a --gateway to fix is refused first
    with clear_errors():
        links = [parse_link(value) for value in lot or []]
    if any(link.kind != KeyKind.LOT for link in links):
        fail("--lot takes a lot path, /01/<gtin>/10/<lot>", code=2)
    with clear_errors():
        store = chain_lot_store(open_chain(rpc, registry))
    files = [lot_path(store, record_id(link)) for link in links] or sorted(store.glob(f"*{SUFFIX}"))
    missing = [str(path) for path in files if not path.exists()]
    if missing or not files:
        fail(
            f"no lot file {', '.join(missing) or 'in ' + str(store)}: run `lots anchor` on this machine",
            code=2,
        )
    refused = 0
    for path in files:
        with path.open("rb") as content:
            status, result = gateway_json(
                "PUT",
                f"{items_url}/0x{path.stem}/lot-file",
                content=content,
                timeout=600,
            )
        if status in (200, 201):
            done = "sent" if status == 201 else "held already"
            typer.echo(
                f"lot {result['lot']} of GTIN {result['gtin']} ({counted(result['items'], 'item')}): {done}"
            )
        else:
            refused += 1
            typer.echo(
                f"error: lot file {path.name}: the gateway answered {status}: {reason(result)}", err=True
            )
    if refused:
        fail(f"the gateway took {len(files) - refused} of {counted(len(files), 'lot file')}")


def _check_split(chain: Chain, store: Path, link: DigitalLink, sub: LotBlock, manifest: Path) -> None:
    """Refuse (one line, exit 2) a split that would not move items as the brand anchored them:
    a sub-lot number in use, a parent not in `store` as anchored, all the parent's items, an
    item or metadata hash the parent does not list, or an item an earlier split took."""
    lot_of, parent_id = chain.registry.functions.lotOf, record_id(link)
    if lot_of(parent_id).call()[0] == bytes(32):
        fail(f"lot {link.lot} of GTIN {link.gtin} is not anchored on this registry: check the path", code=2)
    if not (sub.lot.startswith(str(link.lot)) and len(sub.lot) > len(str(link.lot))):
        fail(
            f"{manifest}: sub-lot {sub.lot} must extend the parent's lot number {link.lot}"
            f" (e.g. {link.lot}-A): the registry numbers a split under its lot",
            code=2,
        )
    if lot_of(sub.lot_id).call()[0] != bytes(32):
        fail(f"lot {sub.lot} is anchored already: a split creates a new lot number", code=2)
    parent_file = lot_path(store, parent_id)
    if not parent_file.exists():
        fail(f"lot {link.lot} is not in the lot store {store}: a split is checked against its file", code=2)
    root, held, _ = lot_of(parent_id).call()
    if sub.count >= held:
        fail(f"lot {link.lot} holds {counted(held, 'item')}: a split takes fewer, so some stay", code=2)
    with LotReader(parent_file) as tree:
        if tree.root != root:
            fail(f"{parent_file} is not the tree lot {link.lot} anchored (its root differs)", code=2)
        stray = first_unvouched(sub, tree)
    if stray is not None:
        fail(
            f"{manifest}: lot {link.lot} does not list serial {stray} with that metadata hash;"
            " a split moves items as their brand anchored them",
            code=2,
        )
    for earlier in sub_lots_of(chain, parent_id):
        taken = _split_off_already(sub, store, earlier)
        if taken is not None:
            fail(f"{manifest}: serial {taken[0]} left lot {link.lot} before, in sub-lot {taken[1]}", code=2)


def _parent_uri(chain: Chain, parent_id: bytes, metadata_hash: bytes) -> str:
    """The metadata URI the parent lot was anchored with, when the sub-lot's metadata hash is the
    parent's (its items share the product data): the sub-lot keeps the product's name and data
    on its page. Else none."""
    decoder = registry_decoder()
    for raw in registry_logs(chain, [chain.registry.events.LotAnchored.topic, "0x" + parent_id.hex()]):
        anchored = decoder.decode(raw, 0).args
        if str(anchored["metadataHash"]).lower() == "0x" + metadata_hash.hex():
            return str(anchored["metadataURI"])
    return ""


def sub_lots_of(chain: Chain, parent_id: bytes) -> list[str]:
    """The sub-lots split off `parent_id` so far (0x ids), from its LotSplit events: the parent's
    root still lists the items that left it, so only these tell what was split off."""
    splits = registry_logs(chain, [chain.registry.events.LotSplit.topic, "0x" + parent_id.hex()])
    return [str(split["topics"][2]).lower() for split in splits]


def _split_off_already(sub: LotBlock, store: Path, earlier: str) -> tuple[str, str] | None:
    """(serial, lot number) of the first item of `sub` that the earlier sub-lot `earlier` took."""
    path = lot_path(store, bytes.fromhex(earlier[2:]))
    header = read_header(path)
    if header is None:
        fail(f"the earlier sub-lot {earlier} is not in the lot store {store}: cannot check the split", code=2)
    with LotReader(path) as tree:
        serial = first_listed(sub, tree)
    return (serial, header.lot) if serial is not None else None


def _unit(sscc: str) -> LogisticUnit:
    """The unit named by its SSCC or its Digital Link (`named_link`)."""
    unit = named_link(sscc, None, UNIT_KINDS).record_key
    assert isinstance(unit, LogisticUnit)  # a unit's link has an SSCC
    return unit


def _unit_id(sscc: str) -> bytes:
    return _unit(sscc).item_id


def _contents(paths: list[str]) -> list[bytes]:
    ids = []
    for path in paths:
        with clear_errors():
            link = parse_link(path)
        if link.kind == KeyKind.PRODUCT:
            fail(f"{path} names a product class, not an item, lot or unit", code=2)
        ids.append(record_id(link))
    return ids


Contents = Annotated[list[str], typer.Argument(help="Digital Link paths (or URLs) of items, lots or units")]


@units.command()
def create(sscc: Sscc, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Create an empty logistic unit that you hold."""
    unit = _unit(sscc).sscc
    transact(rpc, registry, account, lambda c: c.registry.functions.createUnit(unit), f"created unit {unit}")


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
    hours: OfferHoursOption = 24,
    registry: RegistryOption = None,
) -> None:
    """Offer a unit, with everything inside it, to another member (one transaction)."""
    unit, receiver = _unit_id(sscc), parse_address(to, "--to")
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.offerCustody(unit, receiver, hours_from_now(c, hours)),
        f"offered unit {sscc} to {receiver}, valid {hours:g} h",
    )


@units.command()
def accept(sscc: Sscc, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Accept a unit offered to you; everything inside it moves with it."""
    unit = _unit(sscc)
    transact(
        rpc,
        registry,
        account,
        lambda c: accept_call(c, unit.item_id, unit.path),
        f"took custody of unit {sscc}",
    )
