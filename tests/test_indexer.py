"""Indexer against a real anvil, on SQLite and PostgreSQL: state from events, resume, decoding, schema."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from sqlalchemy import Engine, func, select, update
from web3 import Web3

from app.chain.artifacts import artifact
from app.chain.claims import new_claim_code
from app.chain.client import dev_account, registry, send
from app.chain.deploy import Deployment, deploy_registry
from app.chain.record_types import STATUS_NAMES
from app.db.engine import make_engine
from app.db.schema import (
    RECORD_ROWS,
    attestations,
    events,
    indexer_state,
    items,
    members,
    metadata,
    undecodable_logs,
)
from app.demo.journey import (
    CLAIMED,
    DIAMOND,
    GIFT_SET,
    PALLET,
    RECALLED,
    SKINCARE_LOT,
    SKINCARE_LOT_SIZE,
    admit_members,
    demo_members,
    hand_over,
    seed_demo,
    seed_mass_market,
    skincare_tree,
)
from app.gs1.keys import SerialisedItem
from app.indexer.decode import LogDecoder, UndecodableLog, record_ids
from app.indexer.follow import HEADER_BATCH, MAX_RACES, Indexer, RangeRaced
from app.indexer.handlers import HANDLERS, MEMBER_EVENTS, NEVER_EXPIRES, PAUSE_EVENTS, STORED_ONLY
from app.indexer.rpc import RpcClient
from app.indexer.store import OtherDeployment, _rollback

STATE_TABLES = (
    "events",
    "items",
    "unit_contents",
    "unit_packings",
    "members",
    "attestations",
    "undecodable_logs",
)


def _plain(value: object) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


def dump(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of the indexed tables in a stable order, comparable across SQLite and PostgreSQL,
    and the registry's own state (`paused_since` of `indexer_state`).

    Surrogate `id` columns are left out: PostgreSQL never reuses a rolled-back sequence value.
    """
    with engine.connect() as conn:
        tables = {name: metadata.tables[name] for name in STATE_TABLES}
        rows = {
            name: sorted(
                tuple(map(_plain, row))
                for row in conn.execute(select(*(c for c in table.c if c.name != "id")))
            )
            for name, table in tables.items()
        }
        registry = conn.execute(select(indexer_state.c.paused_since))  # the registry's own state
        return {**rows, "registry": [tuple(map(_plain, row)) for row in registry]}


@pytest.fixture
def seeded(w3: Web3, deployment: Deployment, operator: LocalAccount) -> Deployment:
    seed_demo(w3, registry(w3, deployment.registry), operator)
    return deployment


def test_backfill_rebuilds_item_state_from_events(w3: Web3, seeded: Deployment, index_engine: Engine) -> None:
    Indexer(w3, index_engine, seeded).backfill()
    with index_engine.connect() as conn:
        item = conn.execute(select(items).where(items.c.item_id == "0x" + DIAMOND.item_id.hex())).one()
        names = dict(conn.execute(select(members.c.address, members.c.name)).all())
        kinds = [
            r.name
            for r in conn.execute(
                select(events.c.name)
                .where(events.c.item_id == item.item_id)
                .order_by(events.c.block_number, events.c.log_index)
            )
        ]
    on_chain = registry(w3, seeded.registry).functions
    assert item.custodian == on_chain.custodianOf(DIAMOND.item_id).call()
    assert item.status == "sold" and on_chain.statusOf(DIAMOND.item_id).call() == 3
    assert names[item.custodian] == "TianMall Global"
    assert kinds == ["ItemRegistered", "ItemAttested", "AttestationRecorded"] + [
        "CustodyOffered",
        "CustodyTransferred",
    ] * 3 + ["ItemSold"]


def test_lots_units_status_claims_and_attestations_follow_the_chain(
    w3: Web3, seeded: Deployment, index_engine: Engine, tmp_path: Path
) -> None:
    consortium = demo_members()
    contract = registry(w3, seeded.registry)
    seed_mass_market(w3, contract, tmp_path / "lots")
    calls = contract.functions
    certifier, brand = consortium["certifier"].account, consortium["brand"].account
    send(
        w3, certifier, calls.attest(GIFT_SET.item_id, b"ORGANIC".ljust(32, b"\0"), b"\1" * 32, "ipfs://cert")
    )
    send(w3, certifier, calls.attest(GIFT_SET.item_id, b"HALAL".ljust(32, b"\0"), b"\2" * 32, "ipfs://halal"))
    (halal,) = [
        e.args
        for e in contract.events.AttestationRecorded().get_logs(from_block=seeded.deploy_block)
        if e.args.uri == "ipfs://halal"
    ]
    send(w3, certifier, calls.revokeAttestation(halal.attestationId))
    send(w3, dev_account(0), calls.setMemberGln(brand.address, "9506000000008"))
    Indexer(w3, index_engine, seeded, max_range=7).backfill()

    with index_engine.connect() as conn:
        rows = {r.item_id: r for r in conn.execute(RECORD_ROWS)}
        certs = {r.uri: r.revoked for r in conn.execute(select(attestations).where(attestations.c.uri != ""))}
        gln = conn.execute(select(members.c.gln).where(members.c.address == brand.address)).scalar_one()
    for key in (SKINCARE_LOT, GIFT_SET, RECALLED, CLAIMED, PALLET):  # every record as the chain has it
        row = rows["0x" + key.item_id.hex()]
        assert row.custodian == calls.custodianOf(key.item_id).call() or row.container is not None
        assert STATUS_NAMES[calls.statusOf(key.item_id).call()] == row.status
    lot, pallet = rows["0x" + SKINCARE_LOT.item_id.hex()], rows["0x" + PALLET.item_id.hex()]
    assert (lot.kind, lot.lot_root, lot.lot_count) == (
        "lot",
        "0x" + skincare_tree().root.hex(),
        SKINCARE_LOT_SIZE,
    )
    assert pallet.kind == "unit" and pallet.custodian == consortium["carrier"].account.address
    assert lot.container == pallet.item_id == rows["0x" + GIFT_SET.item_id.hex()].container
    assert lot.custodian == brand.address  # frozen while packed; the pallet's custodian counts
    assert calls.custodianOf(SKINCARE_LOT.item_id).call() == pallet.custodian
    assert rows["0x" + RECALLED.item_id.hex()].status == "recalled"
    claimed = rows["0x" + CLAIMED.item_id.hex()]
    assert (claimed.status, claimed.custodian, claimed.claimable) == (
        "claimed",
        dev_account(6).address,
        False,
    )
    assert certs == {"ipfs://cert": False, "ipfs://halal": True}
    assert gln == "9506000000008"


def test_recalls_end_claimability_and_reach_claimed_items(
    w3: Web3, seeded: Deployment, index_engine: Engine, tmp_path: Path
) -> None:
    contract = registry(w3, seeded.registry)
    seed_mass_market(w3, contract, tmp_path / "lots")
    calls = contract.functions
    brand, retailer = (demo_members()[k].account for k in ("brand", "retailer"))
    sold = SerialisedItem.parse(CLAIMED.gtin, "GIFT-0004")
    send(w3, brand, calls.registerItem(sold.item_id, b"\1" * 32, "ipfs://gift-4"))
    hand_over(w3, contract, sold.item_id, brand, retailer)
    send(w3, retailer, calls.markSold(sold.item_id, new_claim_code().address))
    indexer = Indexer(w3, index_engine, seeded)
    indexer.backfill()

    def record(key: SerialisedItem) -> Any:
        with index_engine.connect() as conn:
            return conn.execute(RECORD_ROWS.where(items.c.item_id == "0x" + key.item_id.hex())).one()

    assert (record(sold).status, record(sold).claimable) == ("sold", True)
    send(w3, brand, calls.recall(sold.item_id))
    send(w3, brand, calls.recall(CLAIMED.item_id))
    indexer.backfill()
    assert (record(sold).status, record(sold).claimable) == ("recalled", False)
    assert (record(CLAIMED).status, record(CLAIMED).custodian) == ("recalled", dev_account(6).address)


def test_batch_registration_is_one_event_row_each_item_names_as_its_creation(
    w3: Web3, seeded: Deployment, index_engine: Engine, tmp_path: Path
) -> None:
    contract = registry(w3, seeded.registry)
    seed_mass_market(w3, contract, tmp_path / "lots")
    Indexer(w3, index_engine, seeded, max_range=5).backfill()
    gift_sets = ["0x" + key.item_id.hex() for key in (GIFT_SET, RECALLED, CLAIMED)]
    with index_engine.connect() as conn:
        (batch,) = conn.execute(select(events).where(events.c.name == "ItemsRegistered")).all()
        rows = {r.item_id: r for r in conn.execute(select(items).where(items.c.item_id.in_(gift_sets)))}
    assert batch.item_id is None and batch.args["itemIds"] == gift_sets
    assert {(r.created_tx, r.created_log_index) for r in rows.values()} == {(batch.tx_hash, batch.log_index)}
    for item_id, metadata_hash in zip(gift_sets, batch.args["metadataHashes"], strict=True):
        row = rows[item_id]
        assert (row.kind, row.brand, row.metadata_hash, row.registered_block) == (
            "item",
            batch.args["brand"],
            metadata_hash,
            batch.block_number,
        )
        assert row.metadata_uri == batch.args["metadataURI"]


def test_restart_resumes_from_checkpoint_without_loss_or_duplicates(
    w3: Web3, seeded: Deployment, index_engine: Engine, tmp_path: Any
) -> None:
    head = w3.eth.block_number
    middle = (seeded.deploy_block + head) // 2
    Indexer(w3, index_engine, seeded, max_range=3).backfill(up_to=middle)
    resumed = Indexer(w3, index_engine, seeded, max_range=3)  # a new process reads the checkpoint
    assert resumed.next_block == middle + 1
    resumed.backfill(up_to=head)
    Indexer(w3, index_engine, seeded).backfill(up_to=head)  # a second pass adds nothing

    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    Indexer(w3, reference, seeded).backfill(up_to=head)
    assert dump(index_engine) == dump(reference)
    with index_engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(events)).scalar_one()
    raw = w3.eth.get_logs({"address": seeded.registry, "fromBlock": seeded.deploy_block, "toBlock": head})
    assert total == len(raw)


def test_a_new_deployment_replaces_a_stale_index(
    w3: Web3, seeded: Deployment, index_engine: Engine, operator: LocalAccount
) -> None:
    Indexer(w3, index_engine, seeded).backfill()
    other = deploy_registry(w3, operator)
    Indexer(w3, index_engine, other).backfill()
    with index_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 0


def test_a_database_of_another_chain_is_refused_unless_replaced(
    w3: Web3, seeded: Deployment, index_engine: Engine
) -> None:
    """`origintrace index --rpc <another testnet>` on the gateway's database wiped it."""
    Indexer(w3, index_engine, seeded).backfill()
    elsewhere = dataclasses.replace(seeded, chain_id=17000)
    with pytest.raises(OtherDeployment, match=f"on chain {seeded.chain_id}, not .* on chain 17000"):
        Indexer(w3, index_engine, elsewhere)
    with index_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() > 0
    Indexer(w3, index_engine, elsewhere, replace=True)
    with index_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 0


class InjectingRpc(RpcClient):
    """The real node, plus one log of an event the registry's ABI does not know."""

    def call(self, method: str, params: list[Any]) -> Any:
        result = super().call(method, params)
        if method == "eth_getLogs" and result:
            bogus = dict(result[0], topics=["0x" + "ab" * 32], logIndex="0x7777", data="0x1234")
            result = [*result, bogus]
        return result


def test_undecodable_log_is_recorded_and_skipped(w3: Web3, seeded: Deployment, index_engine: Engine) -> None:
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    Indexer(w3, index_engine, seeded, rpc=InjectingRpc(url)).backfill()
    with index_engine.connect() as conn:
        skipped = conn.execute(select(undecodable_logs)).all()
        item = conn.execute(select(items.c.status)).scalar_one()
    assert [(row.topic0, row.log_index, row.data) for row in skipped] == [
        ("0x" + "ab" * 32, 0x7777, "0x1234")
    ]
    assert "unknown event topic" in skipped[0].reason
    assert item == "sold"  # the registry's own events were all indexed


def test_migrations_build_exactly_the_declared_schema(index_engine: Engine) -> None:
    with index_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_every_abi_event_has_a_handler_or_is_explicitly_stored_only() -> None:
    names = LogDecoder(artifact("OriginRegistry").abi).event_names
    unhandled = names - HANDLERS.keys() - STORED_ONLY.keys()
    assert not unhandled, f"events with no handler and no STORED_ONLY entry: {sorted(unhandled)}"
    assert not (HANDLERS.keys() & STORED_ONLY.keys())


def test_member_events_are_exactly_the_handled_events_naming_an_account() -> None:
    """The reorg rollback replays MEMBER_EVENTS to rebuild members: a new member event must join it.
    (Paused and Unpaused name the admin who paused, but change the registry, not a member.)"""
    inputs = {
        e["name"]: [i["name"] for i in e["inputs"]]
        for e in artifact("OriginRegistry").abi
        if e["type"] == "event"
    }
    naming_an_account = {name for name in HANDLERS if "account" in inputs[name]}
    assert naming_an_account - set(PAUSE_EVENTS) == set(MEMBER_EVENTS)


def _json_ready(value: object) -> object:
    """A web3 argument as our decoder gives it: bytes as 0x-hex, lists element by element."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def test_fast_decoder_matches_web3_on_every_event(w3: Web3, seeded: Deployment, tmp_path: Path) -> None:
    contract = registry(w3, seeded.registry)
    seed_mass_market(w3, contract, tmp_path / "lots")  # lots, units and a batch registration (dynamic arrays)
    decoder = LogDecoder(artifact("OriginRegistry").abi)
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    query = {"address": seeded.registry, "fromBlock": hex(seeded.deploy_block), "toBlock": "latest"}
    raw_logs = RpcClient(url).call("eth_getLogs", [query])
    web3_logs = w3.eth.get_logs({"address": seeded.registry, "fromBlock": seeded.deploy_block})
    assert len(raw_logs) == len(web3_logs)
    seen = set()
    for raw, entry in zip(raw_logs, web3_logs, strict=True):
        ours = decoder.decode(raw, 0)
        theirs = contract.events[ours.name]().process_log(entry)["args"]
        assert ours.args == {k: _json_ready(v) for k, v in theirs.items()}
        seen.add(ours.name)
    assert seen >= {
        "ItemRegistered",
        "ItemsRegistered",
        "LotAnchored",
        "ItemAttested",
        "CustodyOffered",
        "CustodyTransferred",
        "MemberAdmitted",
    }


def test_malformed_log_data_raises_undecodable() -> None:
    decoder = LogDecoder(artifact("OriginRegistry").abi)
    (registered,) = [e for e in artifact("OriginRegistry").abi if e.get("name") == "ItemRegistered"]
    from eth_utils.abi import event_abi_to_log_topic

    topic = "0x" + event_abi_to_log_topic(registered).hex()  # type: ignore[arg-type]
    bogus = {
        "topics": [topic, "0x" + "11" * 32, "0x" + "00" * 12 + "22" * 20],
        "data": "0x" + "00" * 31,  # shorter than the two head words
        "blockNumber": "0x1",
        "blockHash": "0x" + "00" * 32,
        "transactionHash": "0x" + "11" * 32,
        "logIndex": "0x0",
    }
    with pytest.raises(UndecodableLog, match="cannot decode ItemRegistered"):
        decoder.decode(bogus, 0)
    with pytest.raises(UndecodableLog, match="unknown event topic"):
        decoder.decode({**bogus, "topics": ["0x" + "ab" * 32]}, 0)


def test_batch_event_whose_array_runs_past_the_data_is_undecodable() -> None:
    from eth_abi.abi import encode
    from eth_utils.abi import event_abi_to_log_topic

    abi = artifact("OriginRegistry").abi
    (batch,) = [e for e in abi if e.get("name") == "ItemsRegistered"]
    ids = [bytes([n]) * 32 for n in (1, 2)]
    data = encode(["bytes32[]", "bytes32[]", "string"], [ids, ids, "ipfs://x"]).hex()
    log = {
        "topics": ["0x" + event_abi_to_log_topic(batch).hex(), "0x" + "00" * 12 + "22" * 20],  # type: ignore[arg-type]
        "data": "0x" + data,
        "blockNumber": "0x1",
        "blockHash": "0x" + "00" * 32,
        "transactionHash": "0x" + "11" * 32,
        "logIndex": "0x0",
    }
    decoded = LogDecoder(abi).decode(log, 0)
    assert decoded.item_id is None and record_ids(decoded) == ["0x" + i.hex() for i in ids]
    # The first array (from word 3) claims 3 elements; the data ends after its second.
    truncated = data[: 64 * 3] + f"{3:064x}" + data[64 * 4 : 64 * 6]
    with pytest.raises(UndecodableLog, match="cannot decode ItemsRegistered"):
        LogDecoder(abi).decode({**log, "data": "0x" + truncated}, 0)


def test_chain_values_no_column_takes_as_sent_are_stored_not_fatal(
    w3: Web3, deployment: Deployment, operator: LocalAccount, index_engine: Engine
) -> None:
    """The contracts accept any string and any uint64 expiry: a NUL in a metadata URI or an
    attestation kind (PostgreSQL text refuses NUL) and an offer that never expires (above a
    signed 64-bit column) are each stored, rather than stopping the index at their range."""
    contract = registry(w3, deployment.registry)
    consortium = demo_members()
    admit_members(w3, contract, operator, consortium)
    brand, carrier = consortium["brand"].account, consortium["carrier"].account
    certifier = consortium["certifier"].account
    item = keccak(text="nul and forever")
    send(w3, brand, contract.functions.registerItem(item, keccak(item), "ipfs://x\x00y"))
    send(
        w3,
        certifier,
        contract.functions.attest(item, b"GIA\x00grade".ljust(32, b"\0"), keccak(item), "u\x00"),
    )
    send(w3, brand, contract.functions.offerCustody(item, carrier.address, 2**64 - 1))
    Indexer(w3, index_engine, deployment).backfill()
    item_id = "0x" + item.hex()
    with index_engine.connect() as conn:
        record = conn.execute(select(items).where(items.c.item_id == item_id)).one()
        attestation = conn.execute(select(attestations).where(attestations.c.item_id == item_id)).one()
        offered = conn.execute(select(events.c.args).where(events.c.name == "CustodyOffered")).scalar_one()
    assert record.metadata_uri == "ipfs://x\ufffdy"
    assert (attestation.kind, attestation.uri) == ("GIA\ufffdgrade", "u\ufffd")
    assert (record.status, record.offer_expires_at) == ("offered", NEVER_EXPIRES)
    assert offered["expiresAt"] == 2**64 - 1  # the event keeps the exact value


def _raw_log(event: str, topics: list[str], data: bytes) -> dict[str, Any]:
    from eth_utils.abi import event_abi_to_log_topic

    (entry,) = [e for e in artifact("OriginRegistry").abi if e.get("name") == event]
    return {
        "topics": ["0x" + event_abi_to_log_topic(entry).hex(), *topics],  # type: ignore[arg-type]
        "data": "0x" + data.hex(),
        "blockNumber": "0x1",
        "blockHash": "0x" + "00" * 32,
        "transactionHash": "0x" + "11" * 32,
        "logIndex": "0x0",
    }


def test_a_string_that_is_not_utf8_decodes_with_replacement_characters() -> None:
    """Strict decoding made the whole registration undecodable: the item existed on chain and
    never in the index, and every later event about it named an unknown record."""
    from eth_abi.abi import encode

    data = encode(
        ["bytes32", "bytes"], [b"\x33" * 32, b"ipfs://\xff\xfe"]
    )  # `bytes` and `string` encode alike
    raw = _raw_log("ItemRegistered", ["0x" + "01" * 32, "0x" + "00" * 12 + "22" * 20], data)
    decoded = LogDecoder(artifact("OriginRegistry").abi).decode(raw, 0)
    assert decoded.args["metadataURI"] == "ipfs://\ufffd\ufffd"
    assert decoded.item_id == "0x" + "01" * 32


def test_integers_wider_than_json_numbers_are_kept_as_decimal_strings() -> None:
    """orjson writes integers up to 64 bits; a larger uint256 argument would stop the index."""
    from eth_abi.abi import encode

    raw = _raw_log("ThresholdChanged", [], encode(["uint256", "uint256"], [2**64 - 1, 2**200]))
    args = LogDecoder(artifact("OriginRegistry").abi).decode(raw, 0).args
    assert args == {"previous": 2**64 - 1, "threshold": str(2**200)}


def test_layouts_the_fast_path_leaves_to_eth_abi_decode_to_json_ready_args() -> None:
    """Structs, fixed-size and nested arrays go through eth_abi: their values come out as the fast
    path gives them (checksummed addresses, 0x-hex bytes, big ints as strings, lists), and a
    malformed string is text, not an undecodable event."""
    from eth_abi.abi import encode
    from eth_utils.abi import event_abi_to_log_topic

    part = {
        "type": "tuple",
        "components": [{"name": "note", "type": "string"}, {"name": "by", "type": "address"}],
    }
    entry = {
        "type": "event",
        "name": "Layouts",
        "anonymous": False,
        "inputs": [
            {"name": "itemId", "type": "bytes32", "indexed": True},
            {"name": "parts", "type": "tuple[]", "indexed": False, "components": part["components"]},
            {"name": "pair", "type": "bytes32[2]", "indexed": False},
            {"name": "notes", "type": "string[]", "indexed": False},
            {"name": "big", "type": "uint256[2]", "indexed": False},
        ],
    }
    who = "0x" + "ab" * 20
    # `bytes` and `string` share one encoding: this is how a contract stores bytes that are not UTF-8.
    data = encode(
        ["(bytes,address)[]", "bytes32[2]", "bytes[]", "uint256[2]"],
        [[(b"ok\xff\x00", who)], [b"\x01" * 32, b"\x02" * 32], [b"\xc3\xa9", b"a\x00"], [1, 1 << 255]],
    )
    item = "0x" + "11" * 32
    log = {
        "topics": ["0x" + event_abi_to_log_topic(entry).hex(), item],  # type: ignore[arg-type]
        "data": "0x" + data.hex(),
        "blockNumber": "0x1",
        "blockHash": "0x" + "00" * 32,
        "transactionHash": "0x" + "22" * 32,
        "logIndex": "0x0",
    }
    decoded = LogDecoder([entry]).decode(log, 0)
    assert decoded.item_id == item
    assert decoded.args == {
        "itemId": item,
        "parts": [["ok\ufffd\ufffd", Web3.to_checksum_address(who)]],
        "pair": ["0x" + "01" * 32, "0x" + "02" * 32],
        "notes": ["é", "a\ufffd"],
        "big": [1, str(1 << 255)],
    }
    json.dumps(decoded.args)  # what the events table stores: every value is JSON


def test_an_index_that_lost_its_last_commits_is_resumed_from_what_it_holds(
    w3: Web3, seeded: Deployment, index_engine: Engine, tmp_path: Path
) -> None:
    """A PostgreSQL crash (commits do not wait for fsync) can lose the last ranges it
    acknowledged: the indexer went on from the block it held in memory, and their events were
    missing for good. Each range now names the checkpoint it follows; the stored one wins."""
    head = w3.eth.block_number
    indexer = Indexer(w3, index_engine, seeded, max_range=3)
    indexer.backfill(up_to=head)
    lost_after = (seeded.deploy_block + head) // 2
    with index_engine.begin() as conn:  # the server comes back without its last commits
        _rollback(conn, seeded.chain_id, lost_after)
        conn.execute(update(indexer_state).values(last_block=lost_after))
    w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]
    indexer.backfill()
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    Indexer(w3, reference, seeded).backfill(up_to=indexer.next_block - 1)
    assert dump(index_engine) == dump(reference)


class ReversedLogs(RpcClient):
    """A node that answers eth_getLogs newest first (the order is not every provider's)."""

    def call(self, method: str, params: list[Any]) -> Any:
        result = super().call(method, params)
        return result[::-1] if method == "eth_getLogs" else result


def test_logs_are_applied_in_chain_order_whatever_order_the_node_sends(
    w3: Web3, seeded: Deployment, index_engine: Engine, tmp_path: Path
) -> None:
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    head = w3.eth.block_number
    Indexer(w3, index_engine, seeded, rpc=ReversedLogs(url)).backfill(up_to=head)
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    Indexer(w3, reference, seeded).backfill(up_to=head)
    assert dump(index_engine) == dump(reference)


class LaggingBackend(RpcClient):
    """A load-balanced node whose logs come from a backend on another fork than its headers."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.log_reads = 0

    def call(self, method: str, params: list[Any]) -> Any:
        result = super().call(method, params)
        if method != "eth_getLogs":
            return result
        self.log_reads += 1
        return [dict(entry, blockHash="0x" + "ee" * 32) for entry in result]


def test_a_node_that_keeps_contradicting_itself_is_a_fault_not_a_busy_loop(
    w3: Web3, seeded: Deployment, index_engine: Engine
) -> None:
    """Each contradiction was read again at once, unlogged and unseen by /healthz: 1,038
    requests in 3 s. After MAX_RACES reads, it is a fault (`retrying` warns and backs off)."""
    rpc = LaggingBackend(str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    indexer = Indexer(w3, index_engine, seeded, rpc=rpc, confirmations=10_000)
    with pytest.raises(RangeRaced):
        indexer.backfill()
    assert rpc.log_reads == MAX_RACES


def test_an_indexer_whose_database_was_taken_over_stops_instead_of_clearing_it(
    w3: Web3, seeded: Deployment, index_engine: Engine, operator: LocalAccount
) -> None:
    """Resuming after a failure cleared a database holding another deployment: two indexers of
    two registries on one database kept wiping each other's index."""
    first = Indexer(w3, index_engine, seeded)
    first.backfill()
    Indexer(w3, index_engine, deploy_registry(w3, operator)).backfill()  # replaces it, on purpose
    w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]
    with pytest.raises(OtherDeployment, match="another indexer replaced this one's index"):
        first.backfill()
    with index_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(indexer_state)).scalar_one() == 1


def test_block_headers_are_read_in_batches_a_provider_accepts() -> None:
    """The whole reorg window's headers went in one JSON-RPC batch (65 at 12 confirmations)."""
    sizes: list[int] = []

    class Counting(RpcClient):
        def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
            sizes.append(len(calls))
            return [{"number": params[0]} for _, params in calls]

    indexer = object.__new__(Indexer)
    indexer.rpc = Counting("http://127.0.0.1:1")
    headers = indexer._headers(list(range(120)))
    assert sorted(headers) == list(range(120)) and headers[119] == {"number": hex(119)}
    assert max(sizes) <= HEADER_BATCH and sum(sizes) == 120
