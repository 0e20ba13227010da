"""Proof bundle: what a client needs to check an item against the chain, trusting no gateway."""

from typing import Any

from pydantic import BaseModel, Field

from app.api.items import ItemReader
from app.api.lots import MerkleProof
from app.indexer.decode import DecodedLog, record_ids


class ChainFact(BaseModel):
    event: str
    args: dict[str, Any]
    block: int
    block_hash: str
    tx: str
    log_index: int = Field(description="Position of the log in its block, as eth_getLogs reports it")
    record_index: int | None = Field(
        None,
        description="For a batch event (ItemsRegistered): position of item_id in args.itemIds, "
        "and of its metadata hash in args.metadataHashes",
    )
    confirmations: int = Field(description="Indexed blocks from its block to the head, inclusive")
    confirmed: bool = Field(
        description="At least ORIGINTRACE_CONFIRMATIONS blocks deep: a pending fact may still be undone "
        "by a reorg (check it again later)"
    )


class ProofBundle(BaseModel):
    chain_id: int
    registry: str
    item_id: str
    element_string: str | None = Field(description="GS1 element string whose keccak256 is item_id")
    id_rule: str
    facts: list[ChainFact]
    merkle: MerkleProof | None = Field(None, description="For lot items: leaf, proof and anchored root")
    how_to_verify: list[str]


ID_RULE = "item_id = keccak256(utf8(element_string)), element_string = '01' + gtin14 + '21' + serial"
STEPS = [
    "Recompute item_id from element_string with keccak256 and compare.",
    "For each fact, fetch the receipt of `tx` from any node of chain `chain_id` and check that its log at "
    "`log_index` was emitted by `registry`, carries item_id as its first indexed topic (a batch event, "
    "which has `record_index`, carries it at that position of its itemIds instead), and sits in "
    "block `block` with hash `block_hash`.",
    "Decode the log with the registry's ABI and compare it with `event` and `args`.",
    "For lot items the facts are the lot's (they carry the lot id) and, for a sub-lot, its parent "
    "lots' up to the split (the sub-lot's LotAnchored names its parent): recompute `merkle.leaf` as "
    "keccak256(keccak256(item_id ++ metadata_hash)), hash it up the sorted-pair keccak256 "
    "`merkle.proof` and compare with the root anchored on chain for the lot (`lotOf`), or call "
    "`verifyLotItem(lot_id, item_id, metadata_hash, proof)` on the registry.",
]


def proof_bundle(
    reader: ItemReader,
    item_id: str,
    element_string: str | None,
    rows: list[DecodedLog],
    merkle: MerkleProof | None = None,
) -> ProofBundle:
    """The bundle of an item as `reader` sees the chain (indexed at least once); for a lot item,
    `rows` are its lot's events and `merkle` its proof."""
    chain = reader.chain_info()
    assert chain is not None, "proof bundles are built from an index"
    return ProofBundle(
        chain_id=chain.chain_id,
        registry=chain.registry,
        item_id=item_id,
        element_string=element_string,
        id_rule=ID_RULE,
        facts=[
            ChainFact(
                event=r.name,
                args=r.args,
                block=r.block_number,
                block_hash=r.block_hash,
                tx=r.tx_hash,
                log_index=r.log_index,
                record_index=_position(r, item_id),
                confirmations=reader.confirmations(r.block_number),
                confirmed=reader.confirmed(r.block_number),
            )
            for r in rows
        ],
        merkle=merkle,
        how_to_verify=STEPS,
    )


def _position(log: DecodedLog, item_id: str) -> int | None:
    """Where a batch event lists `item_id` (None for an event about one record)."""
    return None if log.item_id is not None else record_ids(log).index(item_id)
