"""The demo journey: a diamond registered, graded by AWDC, shipped, cleared and sold."""

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain.claims import sign_claim
from app.chain.client import dev_account, send
from app.chain.merkle import LotTree
from app.gs1.keys import LogisticUnit, Lot, SerialisedItem
from app.scale.anchor import prepare
from app.scale.manifest import LotBlock, lot_block

OFFER_TTL_S = 24 * 3600
DIAMOND = SerialisedItem.parse("09506000134352", "DIA-0001")
GRADING_REPORT = b"GRADING_REPORT"


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    account: LocalAccount
    gln: str = ""
    """GS1 Global Location Number; its prefix says which GS1 Member Organisation issued it."""


def demo_members() -> dict[str, Member]:
    """The consortium of the demo, on the devnet's funded accounts 1-5 (0 is the operator)."""
    return {
        "brand": Member("Maison Lumière", "BRAND_ROLE", dev_account(1), "3760123400015"),
        "certifier": Member(
            "Antwerp World Diamond Centre (AWDC)", "CERTIFIER_ROLE", dev_account(2), "5414567000017"
        ),
        "carrier": Member("SkyBridge Logistics", "CARRIER_ROLE", dev_account(3), "4897654300015"),
        "customs": Member("Hangzhou Customs", "CUSTOMS_ROLE", dev_account(4), "6920000100019"),
        "retailer": Member("TianMall Global", "RETAILER_ROLE", dev_account(5), "6934567800015"),
    }


DEMO_PLACES: dict[str, dict[str, str]] = {
    "brand": {"name": "Maison Lumière atelier", "city": "Paris", "country": "FR"},
    "certifier": {"name": "AWDC Diamond Office", "city": "Antwerp", "country": "BE"},
    "carrier": {"name": "SkyBridge Hong Kong air hub", "city": "Hong Kong", "country": "HK"},
    "customs": {"name": "Xiaoshan Airport customs hall", "city": "Hangzhou", "country": "CN"},
    "retailer": {"name": "TianMall Global bonded warehouse", "city": "Hangzhou", "country": "CN"},
}
"""Where each demo member is, as a GLN registry would list it (keyed like `demo_members`)."""


def demo_place_directory() -> dict[str, dict[str, str]]:
    """The place directory of the demo (GLN -> name, city, country), as `places_file` holds it."""
    members = demo_members()
    return {members[key].gln: place for key, place in DEMO_PLACES.items()}


def metadata_uri(metadata: dict[str, object]) -> tuple[bytes, str]:
    """(keccak256 of the canonical JSON, a data: URI carrying it) for on-chain registration."""
    canonical = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return keccak(canonical), "data:application/json;base64," + base64.b64encode(canonical).decode()


DIAMOND_METADATA: dict[str, object] = {
    "name": "Round brilliant diamond, 1.01 ct, D colour, VVS1",
    "name_zh": "圆形明亮式切工钻石，1.01 克拉，D 色，VVS1",
    "brand": "Maison Lumière",
    "origin": "Botswana",
    "cut": "Excellent",
    "image": None,
}


def admit_members(w3: Web3, registry: Contract, operator: LocalAccount, members: dict[str, Member]) -> None:
    """Admit each member with its name and GLN, and grant its role (threshold 1: the operator alone)."""
    for member in members.values():
        send(w3, operator, registry.functions.admitMember(member.account.address, member.name, member.gln))
        role = registry.functions[member.role]().call()
        send(w3, operator, registry.functions.grantRole(role, member.account.address))


def hand_over(w3: Web3, registry: Contract, item_id: bytes, giver: LocalAccount, taker: LocalAccount) -> None:
    """Two-step custody handoff: the custodian offers, the receiver accepts."""
    expires = w3.eth.get_block("latest")["timestamp"] + OFFER_TTL_S
    send(w3, giver, registry.functions.offerCustody(item_id, taker.address, expires))
    send(w3, taker, registry.functions.acceptCustody(item_id))


def seed_demo(w3: Web3, registry: Contract, operator: LocalAccount) -> SerialisedItem:
    """Run the whole demo journey and return the diamond's key."""
    members = demo_members()
    admit_members(w3, registry, operator, members)
    brand, certifier, carrier, customs, retailer = (members[k].account for k in members)
    metadata_hash, uri = metadata_uri(DIAMOND_METADATA)
    item_id = DIAMOND.item_id
    send(w3, brand, registry.functions.registerItem(item_id, metadata_hash, uri))
    report = keccak(text="AWDC grading report 2026-AW-000123: 1.01 ct, D, VVS1, Excellent")
    send(w3, certifier, registry.functions.attest(item_id, GRADING_REPORT.ljust(32, b"\0"), report))
    for giver, taker in ((brand, carrier), (carrier, customs), (customs, retailer)):
        hand_over(w3, registry, item_id, giver, taker)
    send(w3, retailer, registry.functions.markSold(item_id))
    return DIAMOND


# ---------------------------------------------------------------- the mass-market model
SKINCARE_GTIN = "09506000134376"
SKINCARE_LOT = Lot.parse(SKINCARE_GTIN, "SK-2026-11")
SKINCARE_LOT_SIZE = 1000
GIFT_SET = SerialisedItem.parse(SKINCARE_GTIN, "GIFT-0001")
RECALLED = SerialisedItem.parse(SKINCARE_GTIN, "GIFT-0002")
CLAIMED = SerialisedItem.parse(SKINCARE_GTIN, "GIFT-0003")
PALLET = LogisticUnit.parse("109506000000000016")
CLAIM_CODE = keccak(text="demo claim code printed under the seal")
"""The gift set's claim code (a private key; see app/chain/claims.py)."""
SKINCARE_METADATA: dict[str, object] = {"name": "Hydrating serum 50 ml", "name_zh": "保湿精华 50 毫升"}
GIFT_SET_METADATA: dict[str, object] = {
    "name": "Hydrating skincare gift set (serum 50 ml, cream 30 ml)",
    "name_zh": "保湿护肤礼盒（精华 50 毫升、面霜 30 毫升）",
}


def skincare_serials() -> list[str]:
    return [f"SK-{n:04d}" for n in range(1, SKINCARE_LOT_SIZE + 1)]


def skincare_tree() -> LotTree:
    """The Merkle tree the brand builds over the lot's items (serials SK-0001...)."""
    metadata_hash, _ = metadata_uri(SKINCARE_METADATA)
    entries = [(SerialisedItem.parse(SKINCARE_GTIN, s).item_id, metadata_hash) for s in skincare_serials()]
    return LotTree.build(entries)


def skincare_block() -> LotBlock:
    """The lot's manifest, as `origintrace lots anchor` reads it."""
    metadata_hash, _ = metadata_uri(SKINCARE_METADATA)
    return lot_block(SKINCARE_GTIN, SKINCARE_LOT.lot, ((s, metadata_hash) for s in skincare_serials()))


def seed_mass_market(w3: Web3, registry: Contract, lot_store: Path) -> None:
    """After `seed_demo`: a lot of 1,000 anchored by its Merkle root (its tree stored in
    `lot_store` for the gateway) and three gift sets registered in one batch: the lot and a
    gift set packed on a pallet the carrier takes in one handoff; a recalled gift set; a gift
    set sold and claimed."""
    members = demo_members()
    brand, carrier, retailer = (members[k].account for k in ("brand", "carrier", "retailer"))
    _, uri = metadata_uri(SKINCARE_METADATA)
    lot_id = SKINCARE_LOT.item_id
    lot = prepare(skincare_block(), lot_store)
    calls = registry.functions
    send(w3, brand, calls.anchorLot(lot_id, lot.root, lot.count, lot.metadata_hash, uri))
    gift_sets = [item.item_id for item in (GIFT_SET, RECALLED, CLAIMED)]
    gift_hash, gift_uri = metadata_uri(GIFT_SET_METADATA)
    send(w3, brand, calls.registerItems(gift_sets, [gift_hash] * len(gift_sets), gift_uri))
    send(w3, brand, calls.createUnit(PALLET.sscc))
    send(w3, brand, calls.pack(PALLET.item_id, [lot_id, GIFT_SET.item_id]))
    hand_over(w3, registry, PALLET.item_id, brand, carrier)
    send(w3, brand, calls.recall(RECALLED.item_id))
    hand_over(w3, registry, CLAIMED.item_id, brand, retailer)
    code = Account.from_key(CLAIM_CODE)
    send(w3, retailer, calls.markSold(CLAIMED.item_id, code.address))
    shopper = dev_account(6)
    signature = sign_claim(code, registry, CLAIMED.item_id, shopper.address)
    send(w3, shopper, calls.claim(CLAIMED.item_id, shopper.address, signature))
