"""An item split off into a sub-lot resolves as an item of the sub-lot, also by its old label."""

from collections.abc import Iterator
from io import BytesIO

import pytest
import zxingcpp
from conftest import served
from fastapi.testclient import TestClient
from PIL import Image
from web3 import Web3

from app.api.main import create_app
from app.chain.client import registry, send
from app.chain.deploy import deploy_registry
from app.chain.devnet import Devnet, free_port
from app.chain.record_types import attestation_id
from app.commands.verify import Report, chain_status, check_facts, check_splits, lot_lineage
from app.core.config import Settings, lot_store
from app.db.engine import make_engine
from app.demo.journey import DIAMOND, demo_members, hand_over, seed_demo
from app.gs1.keys import Lot, SerialisedItem
from app.indexer.follow import Indexer
from app.indexer.rpc import RpcClient
from app.scale.anchor import prepare
from app.scale.manifest import lot_block
from app.scale.store import lot_path

GTIN = "09506000134352"
PARENT = Lot.parse(GTIN, "SPLIT-A")
SUB_LOT = Lot.parse(GTIN, "SPLIT-A1")
SUB_SUB_LOT = Lot.parse(GTIN, "SPLIT-A1X")
OTHER_METADATA_LOT = Lot.parse(GTIN, "SPLIT-A2")
MISLABELLED_LOT = Lot.parse(GTIN, "SPLIT-A3")
SECOND_SPLIT_LOT = Lot.parse(GTIN, "SPLIT-A4")
TAMPERED_PARENT = Lot.parse(GTIN, "SPLIT-T")
TAMPERED_SUB = Lot.parse(GTIN, "SPLIT-T1")
RECALLED_PARENT = Lot.parse(GTIN, "SPLIT-R")
RECALLED_SUB = Lot.parse(GTIN, "SPLIT-R1")
METADATA = b"\x42" * 32
HEADER_LOT_AT = 86  # app/scale/store.py _HEADER: lot length (1 byte), then the lot number
JSON = {"Accept": "application/json"}
MEMBERS = demo_members()


def _serials(first: int, last: int) -> list[str]:
    return [f"S{n:03d}" for n in range(first, last)]


@pytest.fixture(scope="module")
def client(w3: Web3, operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A lot of 40; 10 of them split into a sub-lot handed to the carrier; 3 of those split
    again. S030 is split off with other metadata, S035 into a lot whose file names another lot,
    S005 a second time (into SPLIT-A4). SPLIT-T's stored file is rewritten after a split that
    changed T001's metadata, so that it would vouch for the split."""
    data = tmp_path_factory.mktemp("split")
    settings = Settings(data_dir=data, deployments_dir=data)
    deployment = deploy_registry(w3, operator)
    contract = registry(w3, deployment.registry)
    seed_demo(w3, contract, operator)
    store = lot_store(settings, deployment.chain_id, deployment.registry)
    brand, carrier = MEMBERS["brand"].account, MEMBERS["carrier"].account

    def anchor(lot: Lot, serials: list[str], parent: Lot | None, signer, metadata=METADATA):  # type: ignore[no-untyped-def]
        ready = prepare(lot_block(GTIN, lot.lot, ((s, metadata) for s in serials)), store)
        calls = contract.functions
        if parent is None:
            call = calls.anchorLot(lot.item_id, ready.root, ready.count, ready.metadata_hash, "")
        else:
            call = calls.splitLot(GTIN, parent.lot, lot.lot, ready.root, ready.count, ready.metadata_hash, "")
        send(w3, signer, call)

    anchor(PARENT, _serials(0, 40), None, brand)
    anchor(SUB_LOT, _serials(0, 10), PARENT, brand)
    hand_over(w3, contract, SUB_LOT.item_id, brand, carrier)
    anchor(SUB_SUB_LOT, _serials(0, 3), SUB_LOT, carrier)
    anchor(OTHER_METADATA_LOT, ["S030"], PARENT, brand, metadata=b"\x66" * 32)
    anchor(MISLABELLED_LOT, ["S035"], PARENT, brand)
    anchor(SECOND_SPLIT_LOT, ["S005"], PARENT, brand)  # the parent's root still lists S005
    anchor(TAMPERED_PARENT, [f"T{n:03d}" for n in range(10)], None, brand)
    anchor(TAMPERED_SUB, ["T001"], TAMPERED_PARENT, brand, metadata=b"\x77" * 32)
    anchor(RECALLED_PARENT, [f"R{n:03d}" for n in range(10)], None, brand)
    certifier, organic = MEMBERS["certifier"].account, (b"ORGANIC".ljust(32, b"\0"), b"\x05" * 32)
    send(w3, certifier, contract.functions.attest(RECALLED_PARENT.item_id, *organic))
    anchor(RECALLED_SUB, [f"R{n:03d}" for n in range(5)], RECALLED_PARENT, brand)
    attestation = attestation_id(RECALLED_PARENT.item_id, certifier.address, *organic)
    send(w3, certifier, contract.functions.revokeAttestation(attestation))  # withdrawn after the split
    send(w3, brand, contract.functions.recall(RECALLED_PARENT.item_id))  # after the split
    send(w3, brand, contract.functions.destroy(RECALLED_PARENT.item_id))  # its recalled stock
    rewritten = [(f"T{n:03d}", b"\x77" * 32 if n == 1 else METADATA) for n in range(10)]
    prepare(lot_block(GTIN, TAMPERED_PARENT.lot, rewritten), store)  # no longer the anchored tree
    with lot_path(store, MISLABELLED_LOT.item_id).open("r+b") as lot_file:  # its header names the parent
        lot_file.seek(HEADER_LOT_AT)
        lot_file.write(bytes([len(PARENT.lot)]) + PARENT.lot.encode().ljust(20, b"\0"))
    engine = make_engine(settings.resolved_database_url)
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as test_client:
        yield test_client
    engine.dispose()


def test_an_item_split_off_resolves_under_its_sub_lot_by_the_parent_label(client: TestClient) -> None:
    response = client.get(f"{PARENT.path}/21/S005", headers=JSON)
    body = response.json()
    assert response.status_code == 200
    assert body["lot"]["id"] == "0x" + SUB_LOT.item_id.hex()
    assert body["lot"]["custodian"]["address"] == MEMBERS["carrier"].account.address
    assert body["lot"]["parent_lot_id"] == "0x" + PARENT.item_id.hex()
    assert body["url"].endswith(f"{SUB_LOT.path}/21/S005")
    assert body["merkle"]["valid"] and body["merkle"]["root"] == body["lot"]["merkle_root"]
    assert f"{SUB_LOT.path}/21/S005>" in response.headers["link"]  # the canonical URL names the sub-lot
    another_shopper = TestClient(client.app, client=("192.0.2.7", 50000))  # one client counts once a minute
    by_new_label = another_shopper.get(f"{SUB_LOT.path}/21/S005", headers=JSON).json()
    assert by_new_label["risk"]["scans_24h"] == body["risk"]["scans_24h"] + 1  # the same item
    assert {**by_new_label, "risk": None} == {**body, "risk": None}


def test_a_split_items_qr_code_names_its_sub_lot_as_its_page_does(client: TestClient) -> None:
    png = client.get(f"{PARENT.path}/21/S005/qr.png")
    assert png.status_code == 200 and png.headers["cache-control"] == "no-cache"  # the next split moves it
    (decoded,) = zxingcpp.read_barcodes(Image.open(BytesIO(png.content)))
    assert decoded.text == "http://127.0.0.1:8000" + f"{SUB_LOT.path}/21/S005"


def test_an_item_split_twice_resolves_under_the_deepest_sub_lot(client: TestClient) -> None:
    paths = (f"{PARENT.path}/21/S001", f"{SUB_LOT.path}/21/S001", f"{SUB_SUB_LOT.path}/21/S001")
    for path in (*paths, f"/01/{GTIN}/21/S001"):  # and without a lot: found in the lots that list it
        assert client.get(path, headers=JSON).json()["lot"]["id"] == "0x" + SUB_SUB_LOT.item_id.hex()


def test_an_item_never_split_off_stays_in_its_lot(client: TestClient) -> None:
    body = client.get(f"{PARENT.path}/21/S025", headers=JSON).json()
    assert body["lot"]["id"] == "0x" + PARENT.item_id.hex()
    assert body["lot"]["custodian"]["address"] == MEMBERS["brand"].account.address
    assert client.get(f"{SUB_LOT.path}/21/S025", headers=JSON).status_code == 404  # not in the sub-lot


def test_the_proof_bundle_of_a_split_item_proves_it_against_the_sub_lot(client: TestClient) -> None:
    bundle = client.get(f"/api/v1/lots/{GTIN}/{PARENT.lot}/items/S005/proof").json()
    assert bundle["merkle"]["lot_id"] == "0x" + SUB_LOT.item_id.hex()
    assert bundle["merkle"]["valid"]
    # The lineage: the parent's anchoring and its split into the sub-lot, then every fact of the
    # sub-lot (its handover to the carrier, its own split); not the parent's later splits.
    facts = [(f["event"], f["args"].get("lotId") or f["args"].get("subLotId") or "") for f in bundle["facts"]]
    parent, sub = "0x" + PARENT.item_id.hex(), "0x" + SUB_LOT.item_id.hex()
    assert facts[:3] == [("LotAnchored", parent), ("LotAnchored", sub), ("LotSplit", sub)]
    sub_sub = "0x" + SUB_SUB_LOT.item_id.hex()
    assert facts[3:] == [("CustodyOffered", ""), ("CustodyTransferred", ""), ("LotSplit", sub_sub)]
    blocks = [(f["block"], f["log_index"]) for f in bundle["facts"]]
    assert blocks == sorted(blocks)


def test_origintrace_verify_accepts_the_lineage_facts_on_chain(
    client: TestClient, w3: Web3, devnet: Devnet
) -> None:
    """`origintrace verify` checks each fact on the user's node: about the sub-lot or a parent
    lot the registry links it to; a fact about another record is refused."""
    bundle = client.get(f"/api/v1/lots/{GTIN}/{PARENT.lot}/items/S005/proof").json()
    contract = registry(w3, bundle["registry"])
    lineage = lot_lineage(contract, SUB_LOT.item_id)
    assert lineage == ["0x" + SUB_LOT.item_id.hex(), "0x" + PARENT.item_id.hex()]
    report, rpc = Report(), RpcClient(devnet.rpc_url)
    check_facts(report, w3, rpc, contract.address, lineage, bundle["facts"])
    assert report.verified and len(report.checks) == len(bundle["facts"]) + 2
    unrelated = client.get(f"/api/v1/items/0x{DIAMOND.item_id.hex()}/proof").json()["facts"][0]
    lying = Report()
    check_facts(lying, w3, rpc, contract.address, lineage, [*bundle["facts"], unrelated])
    assert not lying.verified
    # A gateway that states only the latest fact has left out the record's start: the search
    # for left-out logs cannot start at a block the gateway chose.
    late = Report()
    check_facts(late, w3, rpc, contract.address, lineage, bundle["facts"][-1:])
    failed = [text for ok, text in late.checks if not ok]
    assert failed[0] == f"the gateway does not state the creation of record {lineage[0]}"
    assert failed[1].startswith("the gateway left out")
    # The parent lot's facts before the split are searched for too: leaving out its anchoring
    # (or custody it had before the split) is caught.
    no_parent_start = [f for f in bundle["facts"] if f["args"].get("lotId") != lineage[1]]
    assert len(no_parent_start) == len(bundle["facts"]) - 1
    partial = Report()
    check_facts(partial, w3, rpc, contract.address, lineage, no_parent_start)
    (failure,) = [text for ok, text in partial.checks if not ok]
    assert failure.startswith("the gateway left out none of the")


def test_a_split_with_other_metadata_for_the_item_is_not_followed(client: TestClient) -> None:
    """Whoever holds a lot may split it; the item keeps the metadata its brand anchored."""
    body = client.get(f"{PARENT.path}/21/S030", headers=JSON).json()
    assert body["lot"]["id"] == "0x" + PARENT.item_id.hex()
    assert body["metadata_hash"] == "0x" + METADATA.hex()


def test_a_sub_lot_item_its_parent_lot_does_not_vouch_for_is_not_answered(client: TestClient) -> None:
    """SPLIT-A2's file lists S030 with other metadata than SPLIT-A, which the brand anchored: asked
    by the sub-lot's own label, it must not pass for the brand's item (its proof against the
    sub-lot's root alone is valid, and the chain does not check what a split's root holds)."""
    forged = client.get(f"{OTHER_METADATA_LOT.path}/21/S030", headers=JSON)
    assert forged.status_code == 404
    proof = f"/api/v1/lots/{GTIN}/{OTHER_METADATA_LOT.lot}/items/S030/proof"
    assert client.get(proof, headers=JSON).status_code == 404
    twice_split = client.get(f"{SUB_SUB_LOT.path}/21/S001", headers=JSON)  # vouched for by both parents
    assert twice_split.status_code == 200 and twice_split.json()["merkle"]["valid"] is True


def test_an_item_split_off_twice_stays_with_its_first_sub_lot(client: TestClient) -> None:
    """A split lowers the parent's count, not its root: SPLIT-A4 could list S005 again, but took
    nothing; the item and its custody stay with SPLIT-A1, also by SPLIT-A4's label."""
    body = client.get(f"{PARENT.path}/21/S005", headers=JSON).json()
    assert body["lot"]["id"] == "0x" + SUB_LOT.item_id.hex()
    assert client.get(f"{SECOND_SPLIT_LOT.path}/21/S005", headers=JSON).status_code == 404


def test_a_parent_lot_file_that_is_not_the_anchored_tree_vouches_for_nothing(client: TestClient) -> None:
    """SPLIT-T's file lists T001 with the metadata SPLIT-T1 gave it, but its proof does not
    reach SPLIT-T's root on chain: the sub-lot's item is not the brand's."""
    response = client.get(f"{TAMPERED_SUB.path}/21/T001", headers=JSON)
    assert (
        response.status_code == 404
        and "not as the lot it was split from lists it" in response.json()["detail"]
    )


def test_a_sub_lot_file_naming_another_lot_is_not_followed(client: TestClient) -> None:
    """The header of SPLIT-A3's file names SPLIT-A itself: followed, that was an endless loop."""
    response = client.get(f"{PARENT.path}/21/S035", headers=JSON)
    assert response.status_code == 200
    assert response.json()["lot"]["id"] == "0x" + PARENT.item_id.hex()


def test_a_recall_of_a_lot_reaches_the_lots_split_off_it(
    client: TestClient, w3: Web3, devnet: Devnet
) -> None:
    """The brand recalled lot SPLIT-R after 5 of its items went on in SPLIT-R1: those items,
    labelled SPLIT-R, showed as fine, and `verify` said VERIFIED. The recall stands after the
    recalled stock left in SPLIT-R is destroyed."""
    parent = "0x" + RECALLED_PARENT.item_id.hex()
    sub = client.get(RECALLED_SUB.path, headers=JSON).json()
    assert (sub["status"], sub["recalled_with"]) == ("recalled", parent)
    assert sub["history"][-1]["type"] == "recalled"  # the parent's recall, in the sub-lot's timeline
    withdrawn = [(h["type"], h["certification"]) for h in sub["history"] if h["certification"]]
    assert withdrawn == [("attested", "ORGANIC"), ("attestation_revoked", "ORGANIC")]  # it read "Certified"
    label = f"{RECALLED_PARENT.path}/21/R001"
    item = client.get(label, headers=JSON).json()
    assert item["lot"]["id"] == "0x" + RECALLED_SUB.item_id.hex() and item["lot"]["status"] == "recalled"
    assert item["status"] == "recalled"  # at the top, where an app reads an item's status
    page = client.get(label, headers={"Accept": "text/html"}).text
    assert 'class="badge recalled"' in page and "stop using this product" in page
    kept = client.get(f"{RECALLED_PARENT.path}/21/R007", headers=JSON).json()  # never split off
    assert kept["lot"]["status"] == "destroyed" and kept["lot"]["recalled_with"] is None
    untouched = client.get(SUB_LOT.path, headers=JSON).json()
    assert (untouched["status"], untouched["recalled_with"]) == ("active", None)
    bundle = client.get(f"/api/v1/lots/{GTIN}/{RECALLED_PARENT.lot}/items/R001/proof").json()
    contract = registry(w3, bundle["registry"])
    lineage = lot_lineage(contract, RECALLED_SUB.item_id)
    report = Report()
    check_facts(report, w3, RpcClient(devnet.rpc_url), contract.address, lineage, bundle["facts"])
    assert report.verified, report.checks
    assert chain_status(contract, RpcClient(devnet.rpc_url), lineage) == "recalled"  # as `verify` reads it


def test_a_split_item_is_cached_under_its_printed_label(client: TestClient) -> None:
    label = f"{PARENT.path}/21/S006"
    first = client.get(label, headers=JSON)
    cached = client.app.state.cache.get(label, "json")
    assert cached is not None and cached.body == first.content
    assert cached.path == f"{SUB_LOT.path}/21/S006"  # its scans count under the sub-lot path


def test_verify_checks_that_no_lot_split_off_the_items_lot_took_it(
    client: TestClient, w3: Web3, devnet: Devnet
) -> None:
    """A gateway without a sub-lot's file answered a split-off item with its parent lot's custody
    and status, and verify passed (a lot's root still lists the items split off it); verify now
    reads each sub-lot's file from the gateway and checks it against the sub-lot's root."""
    deployed = client.get(f"/api/v1/items/0x{PARENT.item_id.hex()}/proof").json()["registry"]
    contract, rpc = registry(w3, deployed), RpcClient(devnet.rpc_url)

    def failed(base: str, lot: Lot, serial: str) -> list[str]:
        """The checks that fail, had the gateway answered `serial` as an item of `lot`."""
        bundle = client.get(f"/api/v1/lots/{GTIN}/{PARENT.lot}/items/{serial}/proof").json()
        lineage = lot_lineage(contract, lot.item_id)
        logs = check_facts(Report(), w3, rpc, contract.address, lineage, bundle["facts"]).logs
        item = SerialisedItem(GTIN, serial).item_id
        metadata = bytes.fromhex(bundle["merkle"]["metadata_hash"][2:])
        report = Report()
        check_splits(report, base, contract, logs, lineage, item, metadata)
        assert report.checks, "the lots were split: their splits are checked"
        return [text for ok, text in report.checks if not ok]

    with served(client.app, free_port(), lifespan="off") as base:
        assert failed(base, SUB_LOT, "S005") == []  # the gateway's answer: SPLIT-A1, split once since
        # As a gateway withholding SPLIT-A1's file answered: with the parent lot.
        taken = failed(base, PARENT, "S005")  # into SPLIT-A1 (and, listed again, SPLIT-A4)
        assert (
            f"the item was split off into lot {SUB_LOT.lot} (its file, checked against its root" in taken[0]
        )
        # S025 never left SPLIT-A, but the gateway's file of SPLIT-A3 names another lot: that split
        # cannot be ruled out, so verify fails closed; every other split is.
        (unchecked,) = failed(base, PARENT, "S025")
        assert f"lot 0x{MISLABELLED_LOT.item_id.hex()} was split off the item's lot" in unchecked
        assert "the gateway's file of it is not its tree" in unchecked
    (unreachable, *_) = failed("http://127.0.0.1:9", SUB_LOT, "S005")
    assert "its file could not be read" in unreachable


def test_a_split_whose_file_is_missing_stops_the_gateway_following_later_ones(client: TestClient) -> None:
    """Without SPLIT-A1's file, the gateway skipped it and answered S005 as an item of SPLIT-A4,
    a later split listing it again, which took nothing: SPLIT-A1 could be recalled unseen."""
    store = next(p for p in client.app.state.settings.data_dir.rglob(f"{SUB_LOT.item_id.hex()}.otl"))  # type: ignore[attr-defined]
    aside = store.with_suffix(".aside")
    store.rename(aside)
    try:
        client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined]
        body = client.get(f"{PARENT.path}/21/S005", headers=JSON).json()
        assert body["lot"]["id"] == "0x" + PARENT.item_id.hex()  # not SPLIT-A4's
    finally:
        aside.rename(store)
        client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined]
    assert (
        client.get(f"{PARENT.path}/21/S005", headers=JSON).json()["lot"]["id"] == "0x" + SUB_LOT.item_id.hex()
    )


def test_verify_checks_what_the_gateway_shows_against_the_checked_facts(
    client: TestClient, w3: Web3, devnet: Devnet
) -> None:
    """The page's history and certifications must stand on facts that checked out on chain."""
    from app.commands.verify import check_shown

    item = client.get(DIAMOND.path, headers=JSON).json()
    bundle = client.get(f"/api/v1/items/0x{DIAMOND.item_id.hex()}/proof").json()
    contract = registry(w3, bundle["registry"])
    checked = check_facts(
        Report(), w3, RpcClient(devnet.rpc_url), contract.address, [item["id"]], bundle["facts"]
    ).checked
    honest = Report()
    check_shown(honest, item, checked)
    assert honest.verified and len(honest.checks) == 2 + len(item["attestations"]) == 3
    forged = {**item, "attestations": [{**item["attestations"][0], "data_hash": "0x" + "00" * 32}]}
    invented = {**item, "history": [*item["history"], {**item["history"][-1], "log_index": 999}]}
    last = item["history"][-1]  # the sale, by the retailer
    other = {**last["from"], "address": "0x" + "ab" * 20}
    misnamed = {**item, "history": [*item["history"][:-1], {**last, "from": other}]}
    in_a_unit = {**item, "history": [*item["history"][:-1], {**last, "unit": "0x" + "cd" * 32}]}
    revoked = {
        **checked,
        ("0xrevocation", 0): {
            "event": "AttestationRevoked",
            "args": {
                "attestationId": checked[
                    (item["attestations"][0]["tx"], item["attestations"][0]["log_index"])
                ]["args"]["attestationId"]
            },
        },
    }
    for shown, facts in (
        (forged, checked),
        (invented, checked),
        (item, revoked),
        (misnamed, checked),
        (in_a_unit, checked),
    ):
        lying = Report()
        check_shown(lying, shown, facts)
        assert not lying.verified


def test_verify_checks_the_names_and_places_the_gateway_gives_parties(
    client: TestClient, w3: Web3, devnet: Devnet
) -> None:
    """Shoppers read names: a gateway naming an address after another member, moving it to
    another GLN, or calling a non-member a member, passed every check of addresses."""
    from app.commands.verify import check_parties, parties_shown

    item = client.get(DIAMOND.path, headers=JSON).json()
    contract = registry(w3, client.get("/healthz").json()["registry"])

    def verified(shown: dict) -> bool:  # type: ignore[type-arg]
        report = Report()
        check_parties(report, RpcClient(devnet.rpc_url), contract, shown)
        return report.verified

    assert verified(item)
    parties = parties_shown(item)
    assert len(parties) >= 2 + len(item["history"]) + len(item["attestations"])  # every step names one
    certification = item["attestations"][0]
    certifier = certification["certifier"]
    assert certifier["name"] and certifier["place"]  # the grading centre, with its GLN
    brand_name = item["brand"]["name"]
    renamed = {**item, "attestations": [{**certification, "certifier": {**certifier, "name": brand_name}}]}
    moved = {**item, "brand": {**item["brand"], "place": {**certifier["place"]}}}
    unplaced = {**item, "attestations": [{**certification, "certifier": {**certifier, "place": None}}]}
    stranger = {"address": "0x" + "ab" * 20, "name": None, "place": None, "member": True}
    promoted = {**item, "history": [*item["history"][:-1], {**item["history"][-1], "to": stranger}]}
    first = item["history"][0]
    named_early = {
        **item,
        "history": [{**first, "to": {**first["to"], "name": "Someone else"}}, *item["history"][1:]],
    }
    for lying in (renamed, moved, unplaced, promoted, named_early):
        assert not verified(lying)


def test_a_split_items_timeline_starts_at_its_first_lots_anchoring(client: TestClient) -> None:
    """An item split twice showed only its last sub-lot's anchoring (as "registered by the brand",
    by the carrier): its custody before the splits was missing."""
    lot = client.get(f"{PARENT.path}/21/S001", headers=JSON).json()["lot"]
    steps = [(h["type"], h["to"] and h["to"]["address"]) for h in lot["history"]]
    brand, carrier = MEMBERS["brand"].account.address, MEMBERS["carrier"].account.address
    assert steps == [
        ("registered", brand),  # the parent lot
        ("split", brand),  # SUB_LOT off the parent, by the brand
        ("offered", carrier),
        ("handed_over", carrier),  # SUB_LOT to the carrier
        ("split", carrier),  # SUB_SUB_LOT off SUB_LOT, by the carrier
    ]
    page = client.get(f"{SUB_SUB_LOT.path}/21/S001", headers={"Accept": "text/html"}).text
    assert page.count("Split off into a lot of its own") == 2
