"""`origintrace items show`: a record's state as the registry on the member's own node holds it.

Read-only, no account: what the registry's views say (kind, brand, custodian, status, pending
offer, the unit it is packed in, a lot's parent lots) and what its logs add (whether a sold
item can be claimed, its attestations in force), with members' names as the chain gives them.
The gateway is not asked: this is what a member checks before acting on a record.
"""

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from app.api.lots import MAX_NESTING
from app.chain.client import chain_time, utc_time
from app.chain.record_types import KIND_NAMES, STATUS_NAMES
from app.commands.context import (
    Chain,
    OptionalSerial,
    RegistryOption,
    RpcOption,
    clear_errors,
    fail,
    named_record,
    open_chain,
    registry_logs,
)
from app.commands.records import chain_lot_store, sub_lots_of
from app.commands.verify import chain_status, lot_lineage
from app.gs1.digital_link import parse_link
from app.gs1.keys import Lot
from app.indexer.rpc import RpcClient
from app.scale.store import LotReader, lot_path, read_header

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class Party:
    address: str
    name: str
    """Its member name on chain now; empty for a non-member (a consumer, a removed member)."""


@dataclass(frozen=True)
class PendingOffer:
    to: Party
    expires_at: int
    expired: bool


@dataclass(frozen=True)
class LotItem:
    """An item of an anchored lot: not a record of its own; its lot's state is shown."""

    serial: str
    lot: str
    listed: bool | None
    """Whether the registry accepts the item's Merkle proof from the lot store's file; None
    when this machine's lot store has no file of the lot."""
    unchecked_splits: list[str] = field(default_factory=list)
    """Lots split off `lot` whose file this machine's lot store lacks: the item may be in one."""


@dataclass(frozen=True)
class RecordState:
    id: str
    path: str | None
    kind: str
    status: str
    brand: Party | None
    custodian: Party
    offer: PendingOffer | None
    claimable: bool
    """Sold with a claim code that nobody has used yet."""
    packed_in: str | None
    """The id of the logistic unit it is packed in."""
    parent_lots: list[str]
    """For a lot split off another: the lots above it, nearest first."""
    lot_item: LotItem | None
    attestations: int
    """Attestations in force (recorded, not revoked)."""
    revoked_attestations: int


def _party(chain: Chain, address: str) -> Party:
    return Party(address, chain.registry.functions.memberName(address).call())


def _attestations(chain: Chain, record: bytes) -> tuple[int, int]:
    """(in force, revoked) attestations of `record`, from its logs."""
    events = chain.registry.events
    recorded, revoked = events.AttestationRecorded.topic, events.AttestationRevoked.topic
    logs = registry_logs(chain, [[recorded, revoked], None, "0x" + record.hex()])
    made = sum(1 for log in logs if str(log["topics"][0]).lower() == str(recorded).lower())
    withdrawn = len(logs) - made
    return made - withdrawn, withdrawn


def _claimable(chain: Chain, record: bytes, status: str) -> bool:
    """A sold item with a claim key: `markSold` with a claim code emits ClaimKeySet; a claim or a
    recall changes the status."""
    if status != "sold":
        return False
    return bool(registry_logs(chain, [chain.registry.events.ClaimKeySet.topic, "0x" + record.hex()]))


def _listed(chain: Chain, store: Path, lot_id: bytes, record: bytes) -> bytes | None:
    """The item `record`'s metadata hash when the file of lot `lot_id` in `store` lists it and the
    registry accepts its Merkle proof into that lot; else None."""
    path = lot_path(store, lot_id)
    if not path.exists():
        return None
    with LotReader(path) as tree:
        proof = tree.prove(record)
    accepted = (
        proof is not None
        and chain.registry.functions.verifyLotItem(lot_id, record, proof.metadata_hash, proof.proof).call()
    )
    return proof.metadata_hash if proof is not None and accepted else None


def _lot_item(chain: Chain, record: bytes, lot: Lot, serial: str) -> tuple[LotItem, Lot]:
    """The item `record` of `lot`, checked by the registry against the lot file in the lot
    store, and the lot it is in now: followed, as the gateway does, down the lots split off that
    took it (the earliest whose file lists it with the same metadata), as far as this machine's
    lot files tell; a split whose file is not here is named, for the item may have left with it."""
    store = chain_lot_store(chain)
    if not lot_path(store, lot.item_id).exists():
        return LotItem(serial, lot.lot, None), lot
    metadata = _listed(chain, store, lot.item_id, record)
    if metadata is None:
        return LotItem(serial, lot.lot, False), lot
    unchecked: list[str] = []  # splits on the way whose file is not here: each may hold the item
    for _ in range(MAX_NESTING):
        moved = None
        for sub in sub_lots_of(chain, lot.item_id):
            header = read_header(lot_path(store, bytes.fromhex(sub[2:])))
            if header is None or "0x" + Lot(header.gtin, header.lot).item_id.hex() != sub:
                unchecked.append(sub)
            elif _listed(chain, store, bytes.fromhex(sub[2:]), record) == metadata:
                moved = Lot(header.gtin, header.lot)
                break
        if moved is None:
            break
        lot = moved
    return LotItem(serial, lot.lot, True, unchecked), lot


def record_state(chain: Chain, record: bytes, path: str | None) -> RecordState:
    """The state of `record` (named by `path`, when known) on the chain's registry; an item of
    an anchored lot is shown as its lot, with whether the lot lists it. Exits when no record
    has the id."""
    views = chain.registry.functions
    lot_item = None
    link = parse_link(path) if path else None
    if views.statusOf(record).call() == 0 and link and link.lot and link.serial and link.gtin:
        lot_item, lot = _lot_item(chain, record, Lot(link.gtin, link.lot), link.serial)
        record, path = lot.item_id, lot.path
    status_number = views.statusOf(record).call()
    if status_number == 0:
        named_as = f" ({path})" if path else ""
        fail(f"no record has the id 0x{record.hex()}{named_as} on registry {chain.registry.address}", code=2)
    kind = KIND_NAMES[views.kindOf(record).call()]
    parent_lots: list[str] = []
    status = STATUS_NAMES[status_number]
    if kind == "lot":
        lineage = lot_lineage(chain.registry, record)
        parent_lots = lineage[1:]
        status = chain_status(chain.registry, RpcClient(chain.rpc_url), lineage)
    brand = views.brandOf(record).call()
    to, expires_at = views.offerOf(record).call()
    offer = None
    if to != ZERO_ADDRESS:
        offer = PendingOffer(_party(chain, to), expires_at, chain_time(chain.w3) > expires_at)
    container = bytes(views.containerOf(record).call())
    in_force, revoked = _attestations(chain, record)
    return RecordState(
        id="0x" + record.hex(),
        path=path,
        kind=kind,
        status=status,
        brand=_party(chain, brand) if brand != ZERO_ADDRESS else None,
        custodian=_party(chain, views.custodianOf(record).call()),
        offer=offer,
        claimable=_claimable(chain, record, status),
        packed_in="0x" + container.hex() if container != bytes(32) else None,
        parent_lots=parent_lots,
        lot_item=lot_item,
        attestations=in_force,
        revoked_attestations=revoked,
    )


def _named(party: Party) -> str:
    return f"{party.address} ({party.name})" if party.name else f"{party.address} (not a member)"


def _lines(state: RecordState) -> list[str]:
    lines = [f"{state.path or state.id}", f"  id            {state.id}", f"  kind          {state.kind}"]
    if state.lot_item is not None:
        listed = (
            "no file of the lot in this machine's lot store, so not checked"
            if state.lot_item.listed is None
            else "listed (the registry accepts its Merkle proof)"
            if state.lot_item.listed
            else "NOT listed in the lot's file"
        )
        lines.append(f"  lot item      serial {state.lot_item.serial} of lot {state.lot_item.lot}: {listed}")
        for sub in state.lot_item.unchecked_splits:
            lines.append(
                f"  split into    lot {sub}, whose file is not in this lot store: the item may be in it"
            )
    if state.brand is not None:
        lines.append(f"  brand         {_named(state.brand)}")
    lines += [f"  custodian     {_named(state.custodian)}", f"  status        {state.status}"]
    if state.offer is not None:
        offer = state.offer
        expires = f"{'expired' if offer.expired else 'expires'} {utc_time(offer.expires_at)}"
        lines.append(f"  offer         to {_named(offer.to)}, {expires}")
    if state.kind == "item":
        lines.append(f"  claimable     {'yes' if state.claimable else 'no'}")
    if state.packed_in is not None:
        lines.append(f"  packed in     unit {state.packed_in}")
    if state.parent_lots:
        lines.append(f"  split off     {', '.join(state.parent_lots)}")
    if state.kind != "unit":
        revoked = f" ({state.revoked_attestations} revoked)" if state.revoked_attestations else ""
        lines.append(f"  attestations  {state.attestations}{revoked}")
    return lines


def _named_by(first: str, serial: str | None) -> tuple[bytes, str | None]:
    """(record id, Digital Link path or None) of a 0x id, or of what `named_record` takes."""
    if serial is None and first.startswith("0x"):
        if not re.fullmatch(r"0x[0-9a-fA-F]{64}", first):
            fail(f"{first!r} is not a record id (0x and 64 hex digits)", code=2)
        return bytes.fromhex(first[2:]), None
    return named_record(first, serial)


def show(
    id_or_digital_link: Annotated[
        str,
        typer.Argument(
            help="The record's id (0x and 64 hex digits), its Digital Link (path or URL), or a GTIN"
            " followed by the serial",
        ),
    ],
    rpc: RpcOption,
    serial: OptionalSerial = None,
    registry: RegistryOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON")] = False,
) -> None:
    """Show a record's state as the registry on your node holds it (not the gateway's word): kind,
    brand, custodian, status, pending offer, whether it can be claimed, its unit or parent lots,
    and its attestations. An item of an anchored lot shows its lot, and whether the lot lists it."""
    record_id, path = _named_by(id_or_digital_link, serial)
    with clear_errors():
        state = record_state(open_chain(rpc, registry), record_id, path)
    typer.echo(json.dumps(asdict(state), indent=2) if as_json else "\n".join(_lines(state)))
