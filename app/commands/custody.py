"""`origintrace custody`: two-step handoff (offer, accept, cancel)."""

from typing import Annotated

import typer

from app.chain.client import send
from app.commands.context import (
    AccountOption,
    ReceiverOption,
    RegistryOption,
    RpcOption,
    clear_errors,
    hours_from_now,
    item_key,
    open_chain,
    parse_address,
    report_tx,
    signer,
)
from app.commands.items import Gtin, Serial

app = typer.Typer(help="Hand custody over: the holder offers, the receiver accepts.", no_args_is_help=True)


@app.command()
def offer(
    gtin: Gtin,
    serial: Serial,
    to: ReceiverOption,
    account: AccountOption,
    rpc: RpcOption,
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 365, help="Hours until the offer expires")] = 24,
    registry: RegistryOption = None,
) -> None:
    """Offer custody of an item you hold to another member."""
    with clear_errors():
        key = item_key(gtin, serial)
        receiver = parse_address(to, "--to")
        chain = open_chain(rpc, registry)
        expires = hours_from_now(chain, hours)
        call = chain.registry.functions.offerCustody(key.item_id, receiver, expires)
        receipt = send(chain.w3, signer(account), call)
    report_tx(f"offered {key.path} to {receiver}, valid {hours:g} h", receipt)


@app.command()
def accept(
    gtin: Gtin, serial: Serial, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Accept custody of an item offered to you."""
    with clear_errors():
        key = item_key(gtin, serial)
        chain = open_chain(rpc, registry)
        receipt = send(chain.w3, signer(account), chain.registry.functions.acceptCustody(key.item_id))
    report_tx(f"took custody of {key.path}", receipt)


@app.command()
def cancel(
    gtin: Gtin, serial: Serial, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Withdraw your pending offer of an item."""
    with clear_errors():
        key = item_key(gtin, serial)
        chain = open_chain(rpc, registry)
        receipt = send(chain.w3, signer(account), chain.registry.functions.cancelOffer(key.item_id))
    report_tx(f"cancelled the offer of {key.path}", receipt)
