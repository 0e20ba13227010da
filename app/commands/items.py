"""`origintrace items`: register, attest and sell serialised items."""

import difflib
import json
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from eth_utils.crypto import keccak

from app.api.i18n import CERTIFICATIONS
from app.chain.claims import InvalidClaimCode, claim_code, new_claim_code, sign_claim
from app.chain.client import send
from app.chain.keystore import keystore_address
from app.chain.record_types import attestation_id
from app.commands.context import (
    ITEM_OR_LOT_KINDS,
    AccountOption,
    ItemArg,
    ItemOrLotArg,
    OptionalAccountOption,
    OptionalSerial,
    RegistryOption,
    RpcOption,
    ask_irreversible,
    clear_errors,
    fail,
    item_command,
    item_of,
    named_record,
    open_chain,
    parse_address,
    record_noun,
    report_tx,
    signer,
)
from app.commands.gateway import GatewayOption, gateway_json, gateway_url, reason
from app.commands.onchain_text import ForceOption, check_onchain_text
from app.commands.show import show
from app.commands.terminal import YesOption
from app.demo.journey import metadata_uri

app = typer.Typer(
    help="Register, show, attest (and revoke), sell, claim, recall, report lost, found or destroyed items.",
    no_args_is_help=True,
)


@app.command()
def register(
    gtin: ItemArg,
    metadata: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON file with product data")],
    account: AccountOption,
    rpc: RpcOption,
    serial: OptionalSerial = None,
    registry: RegistryOption = None,
    force: ForceOption = False,
) -> None:
    """Register an item; its JSON metadata goes on chain in full, as a hash-checked data: URI
    (large metadata is warned of with its gas, and refused past a limit without --force)."""
    key = item_of(gtin, serial)
    with clear_errors():
        try:
            data = json.loads(metadata.read_text())
        except ValueError as exc:
            raise typer.BadParameter(f"{metadata} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):  # on chain for good, and shown as nothing (no product name)
            kind = type(data).__name__.replace("dict", "object").replace("list", "array")
            raise typer.BadParameter(
                f'{metadata} holds a JSON {kind}: product data is one object, {{"name": ...}}'
            )
        digest, uri = metadata_uri(data)
        check_onchain_text(f"the metadata of {metadata}, as a data: URI,", uri, force)
        chain = open_chain(rpc, registry)
        receipt = send(
            chain.w3, signer(account), chain.registry.functions.registerItem(key.item_id, digest, uri)
        )
    report_tx(f"registered {key.path} as 0x{key.item_id.hex()}", receipt)


app.command("show")(show)


KNOWN_KINDS = tuple(CERTIFICATIONS["en"])
"""The attestation kinds shopper pages name in their languages."""
KIND_HELP = (
    "What is attested, at most 32 bytes. Shopper pages name these in their languages: "
    + ", ".join(KNOWN_KINDS)
    + "; any other kind needs --custom-kind and is shown as written."
)


KindOption = Annotated[str, typer.Option(help=KIND_HELP)]
DocumentOption = Annotated[
    Path, typer.Option(exists=True, dir_okay=False, help="Evidence file; its keccak256 is recorded")
]
RevokedDocumentOption = Annotated[
    Path,
    typer.Option(
        "--document",
        exists=True,
        dir_okay=False,
        help="The evidence file you attested with: its keccak256, with --kind and your account,"
        " names the attestation to revoke (nothing new is recorded)",
    ),
]
CustomKindOption = Annotated[
    bool,
    typer.Option(
        "--custom-kind",
        help="Take a --kind that is not one of the known kinds (shopper pages show it as written)",
    ),
]


def _check_kind(kind: str, custom: bool) -> None:
    """Refuse (exit 2) a kind outside KNOWN_KINDS unless `custom`: an attestation stays on
    chain for good, and a misspelt kind (LABTEST, lab_test) would show shoppers as written."""
    if custom or kind in KNOWN_KINDS:
        return
    upper = kind.upper()
    nearest = [upper] if upper in KNOWN_KINDS else difflib.get_close_matches(upper, KNOWN_KINDS, n=1)
    guess = f"did you mean {nearest[0]}? Or pass" if nearest else "pass"
    fail(
        f"--kind {kind!r} is not a known kind ({', '.join(KNOWN_KINDS)}); {guess} --custom-kind to"
        " record a kind of your own (shopper pages show it as written)",
        code=2,
    )


def _evidence(kind: str, document: Path, custom: bool) -> tuple[bytes, bytes]:
    """(kind as bytes32, keccak256 of the document) of an attestation."""
    _check_kind(kind, custom)
    kind_bytes = kind.encode()
    if not kind_bytes or len(kind_bytes) > 32:
        raise typer.BadParameter("--kind must be 1-32 bytes of text")
    return kind_bytes.ljust(32, b"\0"), keccak(document.read_bytes())


@app.command()
def attest(
    gtin: ItemOrLotArg,
    kind: KindOption,
    document: DocumentOption,
    account: AccountOption,
    rpc: RpcOption,
    serial: OptionalSerial = None,
    uri: Annotated[
        str, typer.Option(help="Where shoppers can read the evidence: an http(s):// URL (the report's)")
    ] = "",
    custom_kind: CustomKindOption = False,
    registry: RegistryOption = None,
    force: ForceOption = False,
) -> None:
    """Attest a fact about an item or lot, recording the evidence's hash: a certifier any --kind,
    a customs office its clearance (--kind CUSTOMS_CLEARANCE)."""
    record, path = named_record(gtin, serial, ITEM_OR_LOT_KINDS)
    parts = urlsplit(uri)
    if uri and (parts.scheme not in ("http", "https") or not parts.netloc):
        fail(
            f"--uri {uri!r}: shopper pages link an http(s):// address only (e.g. https://lab.example/r/1)",
            code=2,
        )
    with clear_errors():
        kind_word, data_hash = _evidence(kind, document, custom_kind)
        check_onchain_text("--uri", uri, force)
        chain = open_chain(rpc, registry)
        call = chain.registry.functions.attest(record, kind_word, data_hash, uri)
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"attested {kind} for {path}", receipt)


@app.command()
def revoke(
    gtin: ItemOrLotArg,
    kind: KindOption,
    document: RevokedDocumentOption,
    account: AccountOption,
    rpc: RpcOption,
    serial: OptionalSerial = None,
    custom_kind: CustomKindOption = False,
    registry: RegistryOption = None,
    yes: YesOption = False,
) -> None:
    """Revoke your attestation of an item or lot, given the --kind (with --custom-kind for a kind
    of your own) and --document you attested with: shopper pages stop showing it; its record
    stays on chain, marked revoked, for good. Asks first (--yes does not)."""
    record, path = named_record(gtin, serial, ITEM_OR_LOT_KINDS)
    with clear_errors():
        kind_word, data_hash = _evidence(kind, document, custom_kind)
        chain = open_chain(rpc, registry)
        revoked = attestation_id(record, keystore_address(account), kind_word, data_hash)
        call = chain.registry.functions.revokeAttestation(revoked)
        ask_irreversible(
            chain,
            call,
            account,
            f"Revoke your {kind} attestation of {path} ({document.name}): shopper pages stop showing it,"
            " for good: the same kind and document can never be attested again.",
            yes,
        )
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"revoked the {kind} attestation of {path}", receipt)


@app.command()
def sell(
    gtin: ItemArg,
    account: AccountOption,
    rpc: RpcOption,
    serial: OptionalSerial = None,
    claim_code: Annotated[
        bool, typer.Option(help="Attach a one-time claim code for the buyer (printed once, give it to them)")
    ] = False,
    registry: RegistryOption = None,
    yes: YesOption = False,
) -> None:
    """Mark an item sold to a consumer (the retailer holding it), optionally with a claim code.

    A sale is for good, and one without a claim code can never get one later: that one asks
    first (--yes does not)."""
    key = item_of(gtin, serial)
    with clear_errors():
        chain = open_chain(rpc, registry)
        functions = chain.registry.functions
        code = new_claim_code() if claim_code else None
        call = functions.markSold(key.item_id, code.address) if code else functions.markSold(key.item_id)
        if not claim_code:
            ask_irreversible(
                chain,
                call,
                account,
                f"Sell {key.path} without a claim code: it is marked sold for good, and no claim code"
                " can be attached to it later, so its buyer can never claim it (--claim-code gives"
                " them one).",
                yes,
            )
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"sold {key.path}", receipt)
    if code is not None:
        typer.echo(f"claim code for the buyer (shown once): 0x{bytes(code.key).hex()}")


@app.command()
def claim(
    gtin: ItemArg,
    code: Annotated[str, typer.Option(help="The one-time claim code from the seller (0x and 64 hex digits)")],
    rpc: RpcOption,
    serial: OptionalSerial = None,
    account: OptionalAccountOption = None,
    to: Annotated[
        str | None, typer.Option(help="Address that becomes the owner (default: the --account's own)")
    ] = None,
    relay: Annotated[
        bool, typer.Option("--relay", help="Have the gateway's relayer send the claim and pay the gas")
    ] = False,
    gateway: GatewayOption = None,
    registry: RegistryOption = None,
) -> None:
    """Claim ownership of an item you bought with its one-time code (the first claim wins).

    The code signs the claim for the new owner and never goes on chain, so nobody watching
    the chain's pending transactions can claim the item first with it. The claim is sent from
    --account, or with --relay by the gateway's relayer (then --to names the owner).
    """
    key = item_of(gtin, serial)
    try:
        code_key = claim_code(code)
    except InvalidClaimCode as exc:
        fail(f"--code: {exc}", code=2)
    receiver = parse_address(to, "--to") if to is not None else None
    if relay:
        if receiver is None:
            fail("--relay needs --to: the address of the new owner", code=2)
        with clear_errors():
            signature = sign_claim(code_key, open_chain(rpc, registry).registry, key.item_id, receiver)
        request = _relay_claim(key.item_id, receiver, signature, gateway)
        typer.echo(
            f"claim of {key.path} for {receiver} sent through the relayer; it counts once mined:"
            f" `origintrace handoff status {request}` shows when"
        )
        return
    if account is None:
        fail("give --account to send the claim, or --relay --to ADDRESS to have the gateway send it", code=2)
    with clear_errors():
        chain, sender = open_chain(rpc, registry), signer(account)
        owner = receiver or sender.address
        signature = sign_claim(code_key, chain.registry, key.item_id, owner)
        receipt = send(chain.w3, sender, chain.registry.functions.claim(key.item_id, owner, signature))
    report_tx(f"claimed {key.path} for {owner}", receipt)


def _relay_claim(item_id: bytes, owner: str, signature: bytes, gateway: str | None) -> str:
    """Hand the signed claim to the gateway's relayer and return its request id; exits with
    its reason if it refuses."""
    body = {"id": "0x" + item_id.hex(), "to": owner, "signature": "0x" + signature.hex()}
    status, result = gateway_json("POST", gateway_url(gateway, "/api/v1/relay/claims"), body=body, timeout=30)
    if status >= 400:
        fail(f"the relayer refused the claim ({status}): {reason(result)}")
    typer.echo(f"relayed: tx {result['tx_hash']} (request {result['request_id']}, {result['status']})")
    return str(result["request_id"])


def _recall_warning(path: str) -> str:
    noun = record_noun(path)
    splits = " and every lot split off it" if noun == "lot" else ""
    return (
        f"Recall {noun} {path}{splits}: shopper pages show it recalled for good, and it can only be"
        " destroyed after."
    )


item_command(
    app,
    "recall",
    "recall",
    "recalled {path}",
    "Recall an item or a lot, with the lots split off it (the brand that registered it), for good."
    " Asks first (--yes does not).",
    _recall_warning,
    units=False,
)
item_command(
    app,
    "report-lost",
    "reportLost",
    "reported {path} lost",
    "Report an item or lot you hold lost or stolen: its page warns shoppers until it is found.",
    units=False,
)
item_command(
    app,
    "found",
    "reportFound",
    "reported {path} found",
    "Report a lost item or lot you hold found again (active once more).",
    units=False,
)
item_command(
    app,
    "destroy",
    "destroy",
    "recorded {path} destroyed",
    "Record that an item or lot you hold was destroyed (for good: a code still in use is then a copy)."
    " Asks first (--yes does not).",
    lambda path: (
        f"Record {record_noun(path)} {path} destroyed: for good, it can never be active again,"
        " and a label of it still in use is then a copy."
    ),
    units=False,
)
