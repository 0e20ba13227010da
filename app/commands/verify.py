"""`origintrace verify`: check what a gateway says about an item against a node you choose.

The shopper's and auditor's way not to trust the gateway: every fact of the proof bundle is
looked up on the user's own node (receipt, log position, emitter, block hash, decoded
arguments), the item's current custodian and status are read from the registry, and the
registry's logs for the item are listed to show that the gateway left none out.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, NamedTuple, NoReturn
from urllib.parse import quote, urlsplit

import httpx
import typer
from eth_typing import ChecksumAddress
from web3 import Web3

from app.api.items import HISTORY_TYPES, carried_moves
from app.api.lots import MAX_NESTING, RECALL_STATUS, lot_status
from app.chain.artifacts import artifact
from app.chain.client import connect
from app.chain.deploy import known_deployment, manifest_path
from app.chain.logs import raw_logs
from app.chain.member_names import MemberNames, Position, member_names
from app.chain.merkle import leaf_hash
from app.chain.record_types import STATUS_NAMES
from app.commands.context import clear_errors, fail, registry_decoder
from app.commands.gateway import gateway_json, reason
from app.db.schema import PACKING_EVENTS
from app.gs1.digital_link import parse_path
from app.gs1.keys import InvalidKey, Lot, normalise_gln
from app.indexer.decode import (
    RECORD_LIST_ARGS,
    DecodedLog,
    LogDecoder,
    UndecodableLog,
    label_text,
    record_arg,
)
from app.indexer.rpc import RpcClient
from app.scale.store import MAX_LOT_FILE_BYTES, LotFileError, LotReader, check_lot_file

STATUS_ALIASES = {"lost": {"lost", "stolen", "lost_stolen"}}
CREATIONS = {"ItemRegistered", "ItemsRegistered", "LotAnchored", "UnitCreated"}
"""Events that create a record."""


@dataclass
class Report:
    checks: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> bool:
        self.checks.append((ok, text))
        typer.secho(f"{'✓' if ok else '✗'} {text}", fg=typer.colors.GREEN if ok else typer.colors.RED)
        return ok

    @property
    def verified(self) -> bool:
        return all(ok for ok, _ in self.checks)


def _trusted_registry(given: str | None, chain_id: int) -> tuple[str | None, str]:
    """The registry the user trusts on `chain_id` and where that came from: --registry, else
    the deployment manifest of the chain, else none."""
    if given is not None:
        if not Web3.is_address(given):
            fail(f"--registry {given!r} is not an address", code=2)
        return given, "--registry"
    known, path = known_deployment(chain_id), manifest_path(chain_id)
    if known is None:
        return None, f"no --registry and no manifest {path}: pass the address your consortium publishes"
    return known.registry, str(path)


def _get_json(url: str) -> Any:
    status, result = gateway_json("GET", url)
    if status != 200:
        fail(f"the gateway answered {status} for {url}: {reason(result)}")
    return result


def _check_fact(
    w3: Web3, decoder: LogDecoder, registry: str, lineage: list[str], fact: dict[str, Any]
) -> str | None:
    """None when `fact` is on chain exactly as stated and about a record of `lineage` (the item,
    or a lot item's lot and its parent lots), else what differs."""
    receipt = w3.eth.get_transaction_receipt(fact["tx"])
    logs = [entry for entry in receipt["logs"] if entry["logIndex"] == fact["log_index"]]
    if not logs:
        return f"no log {fact['log_index']} in tx {fact['tx']}"
    log = logs[0]
    if log["address"] != registry:
        return f"log {fact['log_index']} of {fact['tx']} was emitted by {log['address']}, not the registry"
    if "0x" + bytes(log["blockHash"]).hex() != fact["block_hash"] or log["blockNumber"] != fact["block"]:
        return f"tx {fact['tx']} is in block {log['blockNumber']}, not {fact['block']} as stated"
    raw = {
        "topics": ["0x" + bytes(t).hex() for t in log["topics"]],
        "data": "0x" + bytes(log["data"]).hex(),
        "blockNumber": hex(log["blockNumber"]),
        "blockHash": "0x" + bytes(log["blockHash"]).hex(),
        "transactionHash": fact["tx"],
        "logIndex": hex(log["logIndex"]),
    }
    try:
        decoded = decoder.decode(raw, 0)
    except UndecodableLog as exc:
        return str(exc)
    if decoded.name != fact["event"] or decoded.args != fact["args"]:
        stated = f"{fact['event']} {fact['args']}"
        return f"{fact['tx']} holds {decoded.name} {decoded.args}, the gateway says {stated}"
    if not set(lineage) & ({*raw["topics"][1:]} | {_listed(fact)} - {None}):
        return f"{decoded.name} in {fact['tx']} is not about record {lineage[0]} or its parent lots"
    return None


def _listed(fact: dict[str, Any]) -> str | None:
    """The record a batch event's `record_index` points at in its list (None for other events)."""
    ids = fact["args"].get(RECORD_LIST_ARGS.get(fact["event"], ""))
    index = fact.get("record_index")
    if not isinstance(ids, list) or not isinstance(index, int) or not 0 <= index < len(ids):
        return None
    return str(ids[index]).lower()


def _creates(fact: dict[str, Any], record: str) -> bool:
    """Whether `fact` is the creation of `record` (which happens once, before any other log)."""
    if fact["event"] not in CREATIONS:
        return False
    named = (
        _listed(fact) if fact["event"] in RECORD_LIST_ARGS else fact["args"].get(record_arg(fact["event"]))
    )
    return str(named).lower() == record


def _logs_about(
    rpc: RpcClient,
    registry: ChecksumAddress,
    positions: dict[int, list[str]],
    record: str,
    creation: dict[str, Any] | None,
    end: int | None = None,
) -> list[dict[str, Any]]:
    """The registry's logs that name `record` as the record they change (in the topic
    `positions` gives per event, LogDecoder.record_topics), from its `creation`'s block (block 0
    without one) to `end` (the head when None)."""
    start = int(creation["block"]) if creation else 0
    return [
        log
        for position, topic0s in positions.items()
        for log in raw_logs(rpc, registry, [topic0s, *[None] * (position - 1), record], start, end)
    ]


def verify(
    url: Annotated[str, typer.Argument(help="The item's Digital Link URL, as in its QR code")],
    rpc: Annotated[str, typer.Option("--rpc", envvar="ORIGINTRACE_RPC_URL", help="A node you trust")],
    trusted_registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            envvar="ORIGINTRACE_REGISTRY",
            show_envvar=True,
            help="The registry address your consortium publishes (default: deployments/<chainId>.json)",
        ),
    ] = None,
) -> None:
    """Verify an item's origin and custody facts against your own node, not the gateway's word.

    For an item of an anchored lot (/01/<gtin>/10/<lot>/21/<serial>) the facts are its lot's
    (and, after a split, its parent lots', as your node's registry links them), and the item's
    Merkle proof is checked by the registry on your node."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(
            f"{url} is not a URL: give the item's whole Digital Link URL, as its QR code holds it "
            "(http://gateway/01/<gtin>/21/<serial>)",
            code=2,
        )
    with clear_errors():
        link = parse_path(parts.path)
    key = link.serialised_item
    if key is None:
        fail(
            f"{url} names a {link.kind.noun}: verify takes the Digital Link of a serialised item"
            " (/01/<gtin>/21/<serial>) or of an item of a lot (/01/<gtin>/10/<lot>/21/<serial>);"
            " a lot or a logistic unit is verified through one of its items",
            code=2,
        )
    base = f"{parts.scheme}://{parts.netloc}"
    item_id = "0x" + key.item_id.hex()
    report = Report()
    item = _get_json(url)
    report.check(
        item.get("id", item.get("item_id")) == item_id,
        f"the gateway's item id is keccak256('{key.element_string}')",
    )
    if link.lot is not None and "lot" not in item:  # a registered item; the lot was only on the label
        link = replace(link, lot=None)
    if link.lot is None:
        bundle = _get_json(f"{base}/api/v1/items/{item_id}/proof")
        record_id, shown = key.item_id, item
    else:
        lot, serial = quote(link.lot, safe=""), quote(key.serial, safe="")
        bundle = _get_json(f"{base}/api/v1/lots/{key.gtin}/{lot}/items/{serial}/proof")
        record_id, shown = bytes.fromhex(bundle["merkle"]["lot_id"][2:]), item["lot"]
    with clear_errors():
        w3 = connect(rpc)
    registry = Web3.to_checksum_address(bundle["registry"])
    mine, theirs = w3.eth.chain_id, bundle["chain_id"]
    if not report.check(
        mine == theirs,
        f"your node serves chain {mine}, the gateway's"
        if mine == theirs
        else f"your node serves chain {mine}; the gateway's facts are on chain {theirs}",
    ):
        _not_verified()
    # Anyone can deploy a registry and write any history for an item id into it: the gateway's
    # registry must be the one the user trusts, not just any contract.
    trusted, source = _trusted_registry(trusted_registry, w3.eth.chain_id)
    is_trusted = trusted is not None and trusted.lower() == registry.lower()
    report.check(
        is_trusted,
        f"the gateway's registry {registry} is {'' if is_trusted else 'not '}the one you trust ({source})",
    )
    report.check(bool(w3.eth.get_code(registry)), f"the registry {registry} has code on your node")
    contract = w3.eth.contract(address=registry, abi=artifact("OriginRegistry").abi)
    lineage = ["0x" + record_id.hex()]
    if link.lot is not None:
        _check_merkle(report, contract, key.item_id, record_id, bundle["merkle"])
        lineage = lot_lineage(contract, record_id)
        labelled = "0x" + Lot(key.gtin, link.lot).item_id.hex()
        report.check(
            labelled in lineage,
            f"the proof's lot {lineage[0]} is lot {link.lot} of the label or was split from it",
        )
    with clear_errors():
        node = RpcClient(rpc)
        checked = check_facts(report, w3, node, registry, lineage, bundle["facts"])
        check_carried(report, node, registry, checked.logs, shown)
        check_parties(report, node, contract, shown)
        if link.lot is not None:
            metadata = bytes.fromhex(bundle["merkle"]["metadata_hash"][2:])
            check_splits(report, base, contract, checked.logs, lineage, key.item_id, metadata)
    if link.lot is None:
        check_shown(report, item, checked.checked)
    custodian = contract.functions.custodianOf(record_id).call()
    shown_custodian = shown.get("custodian")
    shown_address = shown_custodian.get("address") if isinstance(shown_custodian, dict) else None
    report.check(
        custodian == shown_address, f"current custodian {custodian} (the gateway shows {shown_address})"
    )
    status = chain_status(contract, RpcClient(rpc), lineage)
    report.check(
        shown["status"] in STATUS_ALIASES.get(status, {status}),
        f"current status {status} (the gateway shows {shown['status']})",
    )
    if not report.verified:
        _not_verified()
    typer.secho(f"VERIFIED against {rpc}", fg=typer.colors.GREEN)


def _not_verified() -> NoReturn:
    typer.secho("NOT VERIFIED: the gateway's answer differs from the chain", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def check_splits(
    report: Report,
    base: str,
    contract: Any,
    logs: list[dict[str, Any]],
    lineage: list[str],
    item: bytes,
    metadata: bytes,
) -> None:
    """The item is in the proof's lot (`lineage[0]`): no lot split off it took the item, nor
    one split off a parent lot before the split the item came down by (the earliest split
    holding an item took it). A lot's root still lists the items split off it, so the proof
    alone says nothing of where the item is now: a gateway without a sub-lot's file (or
    withholding it) answered with the parent's custody and status, and verify passed, though
    the sub-lot could be recalled. Each such sub-lot's file is read from the gateway and checked
    against the sub-lot's root on the user's node; one that cannot be read, or that lists the
    item with its metadata, fails the check. `logs` holds a parent's logs up to that split only."""
    decoder = registry_decoder()
    splits = [
        str(log.args["subLotId"]).lower()
        for log in (decoder.decode(raw, 0) for raw in logs)
        if log.name == "LotSplit"
        and str(log.args["parentLotId"]).lower() in lineage
        and str(log.args["subLotId"]).lower() not in lineage
    ]
    for sub in splits:
        problem = _took_item(base, contract, bytes.fromhex(sub[2:]), item, metadata)
        report.check(
            problem is None, problem or f"lot {sub[:14]}…, split off the item's lots, did not take it"
        )


LOT_FILE_DEADLINE_S = 300
"""How long verify waits for one lot file from a gateway, all of it (a gateway, which verify does
not trust, could send one byte a minute)."""


def _fetch_lot_file(url: str, path: Path) -> str | None:
    """Download the lot file at `url` into `path`, at most MAX_LOT_FILE_BYTES (the most a gateway
    takes) within LOT_FILE_DEADLINE_S; None when done, else what went wrong."""
    deadline, size = time.monotonic() + LOT_FILE_DEADLINE_S, 0
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response, path.open("wb") as out:
            if response.status_code != 200:
                return f"the gateway has no file of it ({response.status_code})"
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_LOT_FILE_BYTES:
                    return f"the gateway sent more than {MAX_LOT_FILE_BYTES:,} bytes for its file"
                if time.monotonic() > deadline:
                    return f"its file took the gateway more than {LOT_FILE_DEADLINE_S} s to send"
                out.write(chunk)
    except httpx.HTTPError as exc:
        return f"its file could not be read from {url}: {exc}"
    return None


def _took_item(base: str, contract: Any, sub: bytes, item: bytes, metadata: bytes) -> str | None:
    """None when the sub-lot `sub` did not take the item (its file, from the gateway at `base`,
    is the tree of its root on chain and does not list the item with `metadata`); else why not."""
    url = f"{base}/api/v1/items/0x{sub.hex()}/lot-file"
    split = f"lot 0x{sub.hex()} was split off the item's lot"
    root = bytes(contract.functions.lotOf(sub).call()[0])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sub-lot.otl"
        try:
            fetched = _fetch_lot_file(url, path)
            if fetched is not None:
                return f"{split}; {fetched}: whether the item left with it cannot be checked"
            header = check_lot_file(path, sub, root)
            with LotReader(path) as tree:
                position = tree.find(item)
                taken = position is not None and tree.metadata_hash(position) == metadata
        except LotFileError as exc:
            return f"{split}; the gateway's file of it is not its tree: {exc}"
        except (OSError, MemoryError) as exc:
            return f"{split}; its file could not be checked here: {exc!r}"
    if taken:
        return (
            f"the item was split off into lot {header.lot} (its file, checked against its root, lists it):"
            " its custody and status are that lot's, not the ones shown"
        )
    return None


def _check_merkle(report: Report, contract: Any, item: bytes, lot: bytes, merkle: dict[str, Any]) -> None:
    """The registry itself, on the user's node, checks the item's proof against the lot's root."""
    metadata = bytes.fromhex(merkle["metadata_hash"][2:])
    proof = [bytes.fromhex(node[2:]) for node in merkle["proof"]]
    report.check(
        merkle["leaf"] == "0x" + leaf_hash(item, metadata).hex(),
        "the Merkle leaf is keccak256(keccak256(item id ++ metadata hash))",
    )
    root = bytes(contract.functions.lotOf(lot).call()[0])
    report.check(
        "0x" + root.hex() == merkle["root"],
        f"the lot's root on chain is the gateway's (0x{root.hex()[:12]}…)",
    )
    report.check(
        contract.functions.verifyLotItem(lot, item, metadata, proof).call(),
        f"the registry accepts the item's {len(proof)}-step Merkle proof into lot 0x{lot.hex()[:12]}…",
    )


def chain_status(contract: Any, rpc: RpcClient, lineage: list[str]) -> str:
    """The status of `lineage[0]` on the user's node, by the gateway's rule: a lot split off a
    lot that was ever recalled is recalled too (app/api/lots.py `lot_status`)."""
    statuses = [STATUS_NAMES[contract.functions.statusOf(bytes.fromhex(r[2:])).call()] for r in lineage]
    decoder = registry_decoder()
    changed = contract.events.StatusChanged.topic

    def was_recalled(lot: str, status: str) -> bool:
        if status != "destroyed":
            return status == "recalled"
        logs = raw_logs(rpc, contract.address, [changed, lot], 0)
        return any(decoder.decode(log, 0).args["status"] == RECALL_STATUS for log in logs)

    recalled = any(was_recalled(lot, status) for lot, status in zip(lineage[1:], statuses[1:], strict=True))
    return lot_status(statuses[0], recalled)


def lot_lineage(contract: Any, lot: bytes) -> list[str]:
    """`lot` and its parent lots (0x-hex, nearest first), as the registry records them."""
    lineage: list[str] = []
    for _ in range(MAX_NESTING):
        lineage.append("0x" + lot.hex())
        lot = bytes(contract.functions.lotOf(lot).call()[2])
        if lot == bytes(32):
            break
    return lineage


class CheckedFacts(NamedTuple):
    checked: dict[tuple[str, int], dict[str, Any]]
    """The stated facts that checked out, by (tx, log index)."""
    logs: list[dict[str, Any]]
    """The registry's raw logs about the record (and its parent lots up to each split)."""


def check_facts(
    report: Report,
    w3: Web3,
    rpc: RpcClient,
    registry: ChecksumAddress,
    lineage: list[str],
    facts: list[dict[str, Any]],
) -> CheckedFacts:
    """Each stated fact is on chain as stated and about the record (`lineage[0]`) or its parent
    lots, the record's creation is stated, and no registry log is left out: none about the
    record, and none about a parent lot before the split that created the lot below it."""
    record_id = lineage[0]
    decoder = registry_decoder()
    # A record is created once, and no log can name it before that: a stated creation that
    # checks out on chain is where the search for left-out logs starts (else at block 0).
    creations: dict[str, dict[str, Any]] = {}
    checked: dict[tuple[str, int], dict[str, Any]] = {}
    for fact in facts:
        problem = _check_fact(w3, decoder, registry, lineage, fact)
        report.check(
            problem is None, problem or f"{fact['event']} in block {fact['block']} (tx {fact['tx'][:12]}…)"
        )
        if problem is None:
            checked[(str(fact["tx"]).lower(), int(fact["log_index"]))] = fact
        for record in lineage:
            if problem is None and record not in creations and _creates(fact, record):
                creations[record] = fact
    creation = creations.get(record_id)
    report.check(
        creation is not None,
        f"the gateway states the record's creation ({creation['event']} in block {creation['block']})"
        if creation
        else f"the gateway does not state the creation of record {record_id}",
    )
    positions = decoder.record_topics()
    on_chain_logs = _logs_about(rpc, registry, positions, record_id, creations.get(record_id))
    for parent, child in zip(lineage[1:], lineage, strict=False):
        split = creations.get(child)  # the child lot's LotAnchored: where the parent's facts end
        if split is None:
            break
        split_at = (int(split["block"]), int(split["log_index"]))
        on_chain_logs += [
            log
            for log in _logs_about(rpc, registry, positions, parent, creations.get(parent), split_at[0])
            if (int(log["blockNumber"], 16), int(log["logIndex"], 16)) < split_at
        ]
    stated = {(str(f["tx"]).lower(), f["log_index"]) for f in facts}
    omitted = [
        log
        for log in on_chain_logs
        if (log["transactionHash"].lower(), int(log["logIndex"], 16)) not in stated
    ]
    report.check(
        not omitted, f"the gateway left out none of the {len(on_chain_logs)} registry logs about the item"
    )
    return CheckedFacts(checked, on_chain_logs)


def check_carried(
    report: Report,
    rpc: RpcClient,
    registry: ChecksumAddress,
    own_logs: list[dict[str, Any]],
    shown: dict[str, Any],
) -> None:
    """The custody moves the gateway shows a record making with its logistic units (`carried`)
    are exactly those the chain has: recomputed from the record's own logs on the user's node
    (`own_logs`, see `check_facts`) and the logs of each unit it was packed in, by the rule the
    gateway uses (app/api/items.py `carried_moves`), with the same receiver."""
    decoder = registry_decoder()
    positions = decoder.record_topics()
    units: dict[str, list[DecodedLog]] = {}

    def unit_logs(unit: str) -> list[DecodedLog]:
        if unit not in units:
            found = _logs_about(rpc, registry, positions, unit, None)
            units[unit] = sorted((decoder.decode(log, 0) for log in found), key=_at)
        return units[unit]

    own = sorted((decoder.decode(log, 0) for log in own_logs), key=_at)
    expected = {
        (move.tx_hash.lower(), move.log_index): (str(move.item_id).lower(), str(move.args["to"]).lower())
        for move in carried_moves(own, unit_logs)
    }
    stated = {
        (str(e["tx"]).lower(), int(e["log_index"])): (
            str(e.get("unit")).lower(),
            str((e.get("to") or {}).get("address")).lower(),
        )
        for e in shown.get("carried", [])
    }
    shown_only = sorted(set(stated.items()) - set(expected.items()))
    chain_only = sorted(set(expected.items()) - set(stated.items()))
    report.check(
        stated == expected,
        f"the {len(expected)} custody moves with the logistic units it was packed in are the chain's"
        if stated == expected
        else f"the gateway shows moves with logistic units the chain does not have ({shown_only}) "
        f"or leaves out some it has ({chain_only})",
    )


def _named(step: dict[str, Any]) -> tuple[str | None, ...]:
    """The addresses a shown history step names: from, to, and its logistic unit."""
    parties = ((step.get("from") or {}).get("address"), (step.get("to") or {}).get("address"))
    return _lowered((*parties, step.get("unit")))


def _names(fact: dict[str, Any]) -> tuple[str | None, ...]:
    """The addresses the history step of `fact` must name (app/api/items.py HISTORY_TYPES)."""
    _, from_arg, to_arg = HISTORY_TYPES.get(fact["event"], (None, None, None))
    args = fact["args"]
    unit = args.get("unitId") if fact["event"] in PACKING_EVENTS else None
    return _lowered((args.get(from_arg or ""), args.get(to_arg or ""), unit))


def _lowered(values: tuple[object, ...]) -> tuple[str | None, ...]:
    return tuple(str(value).lower() if value else None for value in values)


def _at(log: DecodedLog) -> tuple[int, int]:
    return log.block_number, log.log_index


def check_shown(report: Report, item: dict[str, Any], checked: dict[tuple[str, int], dict[str, Any]]) -> None:
    """What the gateway shows of a serialised item stands on the facts that checked out: each
    history step is one of them, naming the parties and logistic unit its fact names, and each
    certification is a recorded attestation, with the kind and document hash shown, that no
    checked fact revokes."""
    history = item.get("history", [])
    steps = [(str(h["tx"]).lower(), int(h["log_index"])) for h in history]
    report.check(
        all(step in checked for step in steps),
        f"each of the {len(steps)} history steps the gateway shows is a checked fact",
    )
    named = [
        _named(h) == _names(checked[step]) for h, step in zip(history, steps, strict=True) if step in checked
    ]
    report.check(all(named), "each history step names the parties and logistic unit of its fact")
    revoked = {f["args"].get("attestationId") for f in checked.values() if f["event"] == "AttestationRevoked"}
    for shown in item.get("attestations", []):
        fact = checked.get((str(shown["tx"]).lower(), int(shown["log_index"])))
        args = fact["args"] if fact is not None and fact["event"] == "AttestationRecorded" else None
        report.check(
            args is not None
            and label_text(str(args.get("kind"))) == shown["kind"]
            and str(args.get("dataHash")).lower() == str(shown["data_hash"]).lower()
            and args.get("attestationId") not in revoked,
            f"the certification {shown['kind']} shown is recorded on chain as shown, and in force",
        )


ShownParty = tuple[dict[str, Any], Position | None, str]
"""A party as the gateway shows it, the position of the fact it is shown for (None: as it is
now) and where it is shown."""


def parties_shown(shown: dict[str, Any]) -> list[ShownParty]:
    """Every party the gateway shows for a record: its brand, custodian and offer receiver as
    they are now; each history step's and carried move's parties, and each certifier, as of
    that fact."""
    found: list[tuple[Any, Position | None, str]] = [
        (shown.get("brand"), None, "brand"),
        (shown.get("custodian"), None, "custodian"),
        (shown.get("pending_offer_to"), None, "offer receiver"),
    ]
    for step in [*shown.get("history", []), *shown.get("carried", [])]:
        at = (int(step["block"]), int(step["log_index"]))
        found += [
            (step.get(end), at, f"{end} of {step['type']} in block {step['block']}") for end in ("from", "to")
        ]
    for certification in shown.get("attestations", []):
        at = (int(certification["block"]), int(certification["log_index"]))
        found.append((certification.get("certifier"), at, f"certifier of {certification['kind']}"))
    return [
        (party, at, where) for party, at, where in found if isinstance(party, dict) and party.get("address")
    ]


def _valid_gln(gln: str) -> bool:
    try:
        normalise_gln(gln)
    except InvalidKey:
        return False
    return True


def check_parties(report: Report, rpc: RpcClient, contract: Any, shown: dict[str, Any]) -> None:
    """Each party `shown` (a record's JSON) names carries the name and GLN the chain gave it,
    read from the registry's logs on the user's node (see `check_names`)."""
    parties = parties_shown(shown)
    names = member_names(rpc, contract, registry_decoder(), [party["address"] for party, _, _ in parties])
    is_member = cache(lambda address: bool(contract.functions.isMember(address).call()))
    check_names(report, names, is_member, parties)


def check_names(
    report: Report, names: MemberNames, is_member: Callable[[str], bool], parties: list[ShownParty]
) -> None:
    """Each party shown carries the name and GLN the chain gave it as of its fact (now, for the
    brand and custodian): the name of its last admission and the GLN it set since, none before
    its first admission; and `member` says whether it is a member now (and was named then).

    Shoppers read names, not addresses: a gateway naming a stranger's address after a known
    certifier would pass every check of addresses."""
    wrong = []
    for party, at, where in parties:
        address = str(party["address"])
        name, gln = names.as_of(address, at)
        place = party.get("place")
        shown_gln = place.get("gln") if isinstance(place, dict) else None
        # The gateway shows no place for a GLN whose check digit is wrong (the chain takes any 13 digits).
        gln_ok = shown_gln == gln if shown_gln is not None else not (gln and _valid_gln(gln))
        member = is_member(Web3.to_checksum_address(address)) and bool(name)
        if (party.get("name") or "") != name or not gln_ok or bool(party.get("member")) != member:
            wrong.append(
                f"{where}: {address} shown as {party.get('name')!r} (GLN {shown_gln}, member "
                f"{party.get('member')}), the chain names it {name or None!r} (GLN {gln or None}, "
                f"member {member})"
            )
    report.check(
        not wrong,
        f"the {len(parties)} parties shown have the names and GLNs the chain gave them (MemberAdmitted, "
        "MemberGlnSet on your node)"
        if not wrong
        else "the gateway names parties otherwise than the chain: " + "; ".join(wrong[:3]),
    )
