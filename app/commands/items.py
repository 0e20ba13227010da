"""`origintrace items`: register, attest and sell serialised items."""

import json
from pathlib import Path
from typing import Annotated

import typer
from eth_utils.crypto import keccak

from app.api.i18n import CERTIFICATIONS
from app.chain.claims import InvalidClaimCode, claim_code, new_claim_code, sign_claim
from app.chain.client import send
from app.commands.context import (
    AccountOption,
    OptionalAccountOption,
    RegistryOption,
    RpcOption,
    clear_errors,
    fail,
    item_key,
    open_chain,
    parse_address,
    report_tx,
    signer,
    transact,
)
from app.commands.gateway import GatewayOption, gateway_json, gateway_url, reason
from app.demo.journey import metadata_uri

app = typer.Typer(help="Register, attest, sell, claim and recall items.", no_args_is_help=True)
Gtin = Annotated[str, typer.Argument(help="GTIN-8/12/13/14 (check digit verified)")]
Serial = Annotated[str, typer.Argument(help="Serial number (AI 21)")]


@app.command()
def register(
    gtin: Gtin,
    serial: Serial,
    metadata: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON file with product data")],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
) -> None:
    """Register an item; its JSON metadata goes on chain as a hash-checked data: URI."""
    with clear_errors():
        key = item_key(gtin, serial)
        try:
            data = json.loads(metadata.read_text())
        except ValueError as exc:
            raise typer.BadParameter(f"{metadata} is not valid JSON: {exc}") from None
        digest, uri = metadata_uri(data)
        chain = open_chain(rpc, registry)
        receipt = send(
            chain.w3, signer(account), chain.registry.functions.registerItem(key.item_id, digest, uri)
        )
    report_tx(f"registered {key.path} as 0x{key.item_id.hex()}", receipt)


KIND_HELP = (
    "What is attested, at most 32 bytes. Shopper pages name these in their languages: "
    + ", ".join(CERTIFICATIONS["en"])
    + "; any other kind is shown as written."
)


@app.command()
def attest(
    gtin: Gtin,
    serial: Serial,
    kind: Annotated[str, typer.Option(help=KIND_HELP)],
    document: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Evidence file; its keccak256 is recorded")
    ],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
) -> None:
    """Attest a fact about an item (certifiers only), recording the evidence's hash."""
    with clear_errors():
        key = item_key(gtin, serial)
        kind_bytes = kind.encode()
        if not kind_bytes or len(kind_bytes) > 32:
            raise typer.BadParameter("--kind must be 1-32 bytes of text")
        chain = open_chain(rpc, registry)
        call = chain.registry.functions.attest(
            key.item_id, kind_bytes.ljust(32, b"\0"), keccak(document.read_bytes())
        )
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"attested {kind} for {key.path}", receipt)


@app.command()
def sell(
    gtin: Gtin,
    serial: Serial,
    account: AccountOption,
    rpc: RpcOption,
    claim_code: Annotated[
        bool, typer.Option(help="Attach a one-time claim code for the buyer (printed once, give it to them)")
    ] = False,
    registry: RegistryOption = None,
) -> None:
    """Mark an item sold to a consumer (the retailer holding it), optionally with a claim code."""
    with clear_errors():
        key = item_key(gtin, serial)
        chain = open_chain(rpc, registry)
        functions = chain.registry.functions
        code = new_claim_code() if claim_code else None
        call = functions.markSold(key.item_id, code.address) if code else functions.markSold(key.item_id)
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"sold {key.path}", receipt)
    if code is not None:
        typer.echo(f"claim code for the buyer (shown once): 0x{bytes(code.key).hex()}")


@app.command()
def claim(
    gtin: Gtin,
    serial: Serial,
    code: Annotated[str, typer.Option(help="The one-time claim code from the seller (0x and 64 hex digits)")],
    rpc: RpcOption,
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
    key = item_key(gtin, serial)
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
        _relay_claim(key.item_id, receiver, signature, gateway)
        typer.echo(f"claimed {key.path} for {receiver} through the relayer")
        return
    if account is None:
        fail("give --account to send the claim, or --relay --to ADDRESS to have the gateway send it", code=2)
    with clear_errors():
        chain, sender = open_chain(rpc, registry), signer(account)
        owner = receiver or sender.address
        signature = sign_claim(code_key, chain.registry, key.item_id, owner)
        receipt = send(chain.w3, sender, chain.registry.functions.claim(key.item_id, owner, signature))
    report_tx(f"claimed {key.path} for {owner}", receipt)


def _relay_claim(item_id: bytes, owner: str, signature: bytes, gateway: str | None) -> None:
    """Hand the signed claim to the gateway's relayer; exits with its reason if it refuses."""
    body = {"id": "0x" + item_id.hex(), "to": owner, "signature": "0x" + signature.hex()}
    status, result = gateway_json("POST", gateway_url(gateway, "/api/v1/relay/claims"), body=body, timeout=30)
    if status >= 400:
        fail(f"the relayer refused the claim ({status}): {reason(result)}")
    typer.echo(f"relayed: tx {result['tx_hash']} (request {result['request_id']}, {result['status']})")


@app.command()
def recall(
    gtin: Gtin, serial: Serial, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Recall an item (the brand that registered it)."""
    key = item_key(gtin, serial)
    transact(
        rpc, registry, account, lambda c: c.registry.functions.recall(key.item_id), f"recalled {key.path}"
    )
